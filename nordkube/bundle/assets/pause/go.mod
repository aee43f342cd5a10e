module nordkube.local/pause

go 1.25
