package boltstore

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crash, lock and disk-full tests re-execute this test binary as a
// child process; these variables tell the child what to do.
const (
	childEnv = "SESSIONKIT_BBOLT_CHILD"
	fileEnv  = "SESSIONKIT_BBOLT_FILE"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "write":
		childWrite(os.Getenv(fileEnv))
	case "hold":
		childHold(os.Getenv(fileEnv))
	case "diskfull":
		childDiskFull(os.Getenv(fileEnv))
	case "damaged":
		childDamaged(os.Getenv(fileEnv), false)
	case "damaged-verify":
		childDamaged(os.Getenv(fileEnv), true)
	case "damage-live-truncate", "damage-live-zero":
		childDamageLive(os.Getenv(fileEnv), os.Getenv(childEnv))
	default:
		fmt.Fprintln(os.Stderr, "unknown child mode")
		os.Exit(2)
	}
}

// child starts this binary in mode on file, with its stdout piped back.
func child(t *testing.T, mode, file string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, fileEnv+"="+file)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(out)
}

// payload returns random data whose first 32 bytes are the SHA-256 of the
// rest, so a reader can tell an intact record from a torn one.
func payload() []byte {
	var n [2]byte
	_, _ = rand.Read(n[:])
	body := make([]byte, 64+int(n[0])<<3|int(n[1])&7)
	_, _ = rand.Read(body)
	sum := sha256.Sum256(body)
	return append(sum[:], body...)
}

func intact(data []byte) bool {
	if len(data) < 32 {
		return false
	}
	sum := sha256.Sum256(data[32:])
	return string(sum[:]) == string(data[:32])
}

// childWrite saves sessions from several goroutines and prints each ID
// once its Save has returned, until it is killed.
func childWrite(file string) {
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	for range 4 {
		go func() {
			for {
				var b [12]byte
				_, _ = rand.Read(b[:])
				id := hex.EncodeToString(b[:])
				if err := s.Save(context.Background(), id, payload(), time.Now().Add(24*time.Hour)); err != nil {
					fmt.Fprintln(os.Stderr, "child: save:", err)
					os.Exit(1)
				}
				mu.Lock()
				_, _ = os.Stdout.WriteString(id + "\n")
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Minute) // the parent kills us long before
	os.Exit(3)
}

// childHold keeps file open until its stdin closes.
func childHold(file string) {
	s, err := Open(file, Options{PruneInterval: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	_ = s.Close()
	os.Exit(0)
}

// lines reads complete lines until EOF; a torn last line is dropped.
func lines(r *bufio.Reader) []string {
	var out []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return out
		}
		out = append(out, strings.TrimSuffix(l, "\n"))
	}
}
