// nk-http is the toolbox image's test server. GET /bytes/N answers exactly N bytes, streamed,
// so a test can ask for a response far larger than any MTU (the overlay's silent drops show up
// only on large responses); every other path answers "ok".
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
)

const chunk = 64 * 1024

func main() {
	listen := flag.String("listen", ":8080", "address to listen on")
	flag.Parse()
	http.HandleFunc("/bytes/", serveBytes)
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	log.Printf("nk-http listening on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}

func serveBytes(w http.ResponseWriter, r *http.Request) {
	size, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/bytes/"), 10, 64)
	if err != nil || size < 0 {
		http.Error(w, "want /bytes/N with N a byte count", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	block := []byte(strings.Repeat("nordkube", chunk/8))
	for size > 0 {
		n := int64(len(block))
		if size < n {
			n = size
		}
		if _, err := w.Write(block[:n]); err != nil {
			return
		}
		size -= n
	}
}
