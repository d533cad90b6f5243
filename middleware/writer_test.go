package middleware

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFlushStreams(t *testing.T) {
	f := newFixture(t, nil)
	release := make(chan struct{})
	savedAtFlush := make(chan int64, 1)
	srv := httptest.NewServer(f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Get(r).Put("streaming", true)
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		io.WriteString(w, "first\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush through the wrapper: %v", err)
		}
		savedAtFlush <- f.store.saves.Load()
		<-release // the client must see the first chunk before the handler ends
		io.WriteString(w, "second\n")
	})))
	defer srv.Close()
	defer close(release)

	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 1 {
		t.Fatalf("streamed response: Set-Cookie %q, want one", sc)
	}
	if n := <-savedAtFlush; n != 1 {
		t.Fatalf("%d saves by the time of the first flush, want 1", n)
	}
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	release <- struct{}{}
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Fatalf("rest %q", rest)
	}
}

func TestHijackCommitsFirst(t *testing.T) {
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Get(r).Put("upgraded", true)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack through the wrapper: %v", err)
			return
		}
		defer conn.Close()
		if n := f.store.saves.Load(); n != 1 {
			t.Errorf("%d saves when Hijack returned, want 1", n)
		}
		// The cookie is in Header() for the handler to send itself.
		brw.WriteString("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n")
		w.Header().Write(brw)
		brw.WriteString("\r\nok")
		brw.Flush()
		if err := Get(r).Put("after", 1); err == nil {
			t.Error("a change after Hijack was accepted")
		}
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if string(body) != "ok" {
		t.Fatalf("body %q", body)
	}
	sc := res.Header.Values("Set-Cookie")
	if len(sc) != 1 {
		t.Fatalf("Set-Cookie %q, want one", sc)
	}
	if id := cookieID(t, sc[0]); !f.stored(t, id) {
		t.Fatal("hijacked session not stored")
	}
}

func TestReadFromCommitsFirst(t *testing.T) {
	f := newFixture(t, nil)
	path := filepath.Join(t.TempDir(), "file.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Get(r).Put("sent", true)
		file, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer file.Close()
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the wrapper hides io.ReaderFrom")
		}
		if n, err := io.Copy(w, file); n != 10000 || err != nil {
			t.Errorf("io.Copy: %d, %v", n, err)
		}
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if len(body) != 10000 || len(res.Header.Values("Set-Cookie")) != 1 {
		t.Fatalf("%d bytes, Set-Cookie %q", len(body), res.Header.Values("Set-Cookie"))
	}
}

func TestUnwrap(t *testing.T) {
	f := newFixture(t, nil)
	rec := httptest.NewRecorder()
	f.mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok || u.Unwrap() != rec {
			t.Error("Unwrap does not return the underlying writer")
		}
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
}
