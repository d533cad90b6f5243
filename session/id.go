package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// idBytes is the entropy of a generated ID: 192 bits, the same as
// express-session's uid-safe(24), giving 32 base64url characters.
const idBytes = 24

// NewID returns a fresh session ID of 192 random bits from crypto/rand,
// encoded as 32 unpadded base64url characters.
func NewID() string {
	var b [idBytes]byte
	// crypto/rand.Read never returns an error on supported platforms; it
	// crashes the program rather than hand out predictable bytes.
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// LogID returns a short, stable hash of id for logs and metrics, so that
// operators can correlate lines without a log ever holding a usable ID.
func LogID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}
