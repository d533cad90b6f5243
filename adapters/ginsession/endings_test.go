package ginsession_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/sessionkit/adapters/ginsession"
	"github.com/sessionkit/sessionkit/codecs/jsoncodec"
	"github.com/sessionkit/sessionkit/middleware"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/stores/memstore"
)

// TestGinEndings checks the ways a gin handler ends a response: each must
// commit the session through the middleware before the first byte, and a
// panic must commit nothing.
func TestGinEndings(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	mgr, err := session.New(session.Config{Store: store, Codec: jsoncodec.New()})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := middleware.New(middleware.Config{Manager: mgr, Secrets: []string{"test secret, 32 bytes or longer.."}})
	if err != nil {
		t.Fatal(err)
	}
	var lateErr error
	r := gin.New()
	r.Use(gin.RecoveryWithWriter(io.Discard), ginsession.New(mw))
	put := func(c *gin.Context) *session.Session {
		s := ginsession.Get(c)
		if err := s.Put("k", 1); err != nil {
			t.Errorf("Put: %v", err)
		}
		return s
	}
	r.GET("/status", func(c *gin.Context) { put(c); c.Status(http.StatusNoContent) })
	r.GET("/abort", func(c *gin.Context) { put(c); c.AbortWithStatus(http.StatusAccepted) })
	r.GET("/now", func(c *gin.Context) { put(c); c.Writer.WriteHeaderNow() })
	r.GET("/json", func(c *gin.Context) { put(c); c.JSON(http.StatusOK, gin.H{"ok": true}) })
	r.GET("/late", func(c *gin.Context) {
		s := put(c)
		c.String(http.StatusOK, "body")
		lateErr = s.Put("k", 2)
	})
	r.GET("/panic", func(c *gin.Context) { put(c); panic("boom") })

	for _, tc := range []struct {
		path   string
		code   int
		cookie bool
	}{
		{"/status", http.StatusNoContent, true},
		{"/abort", http.StatusAccepted, true},
		{"/now", http.StatusOK, true},
		{"/json", http.StatusOK, true},
		{"/late", http.StatusOK, true},
		{"/panic", http.StatusInternalServerError, false},
	} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		// Result has the headers as sent, not as changed after the first write.
		cookie := strings.Contains(rec.Result().Header.Get("Set-Cookie"), "session=")
		if rec.Code != tc.code || cookie != tc.cookie {
			t.Errorf("GET %s: status %d, session cookie %v; want %d, %v", tc.path, rec.Code, cookie, tc.code, tc.cookie)
		}
	}
	if !errors.Is(lateErr, session.ErrCommitted) {
		t.Errorf("Put after the body was written: %v; want session.ErrCommitted, as the body went through the middleware", lateErr)
	}
}
