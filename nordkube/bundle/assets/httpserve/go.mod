module nordkube.local/httpserve

go 1.25
