package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// The file check reads a bbolt file with ReadAt into memory of its own and
// checks every bound bbolt trusts when it reads the mapped file: bbolt reads
// pages and their elements through unchecked pointers, so a damaged page can
// fault (SIGSEGV or SIGBUS, which end the process) or loop forever, and no
// recover catches either. The layout (bbolt's file format version 2):
//
//	page header  id u64 | flags u16 | count u16 | overflow u32   (16 bytes)
//	meta         magic u32 | version u32 | page size u32 | flags u32 |
//	             root bucket (root u64, sequence u64) | freelist u64 |
//	             high water mark u64 | txid u64 | FNV-64a of the above u64
//	branch elem  pos u32 | key size u32 | child page u64 (pos counts from the element)
//	leaf elem    flags u32 | pos u32 | key size u32 | value size u32
//	freelist     count page IDs; a count of 0xFFFF means the first u64 is the count
//	bucket value root page u64 | sequence u64, then an inline leaf page when root is 0
//
// All integers are little-endian on the platforms bbolt writes them from.

const (
	boltMagic   = 0xED0CDAED
	boltVersion = 2
	pageHeader  = 16
	elemSize    = 16
	metaSize    = 64
	noFreelist  = ^uint64(0)

	branchPage   = 0x01
	leafPage     = 0x02
	freelistPage = 0x10
	bucketLeaf   = 0x01

	// maxDepth bounds the nesting of pages and buckets the check follows: a
	// B+tree of 2^64 pages is under 64 levels deep, and the store nests one
	// level of buckets.
	maxDepth = 256
)

var le = binary.LittleEndian

type boltMeta struct {
	pageSize                   uint32
	root, freelist, pgid, txid uint64
}

// readMeta decodes the meta page at the start of p and checks its magic,
// version and checksum as bbolt does.
func readMeta(p []byte) (boltMeta, bool) {
	if len(p) < pageHeader+metaSize {
		return boltMeta{}, false
	}
	m := p[pageHeader : pageHeader+metaSize]
	h := fnv.New64a()
	h.Write(m[:56])
	if le.Uint32(m) != boltMagic || le.Uint32(m[4:]) != boltVersion || le.Uint64(m[56:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{
		pageSize: le.Uint32(m[8:]),
		root:     le.Uint64(m[16:]),
		freelist: le.Uint64(m[32:]),
		pgid:     le.Uint64(m[40:]),
		txid:     le.Uint64(m[48:]),
	}, true
}

// damagef returns an error wrapping ErrDamaged.
func damagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDamaged}, args...)...)
}

// checkFile checks the bbolt file open as f, of the given size, and returns
// nil when bbolt can map and read it without meeting a bad page, or an error
// wrapping ErrDamaged that names the first problem (page numbers only, never
// keys or values). An empty file passes: bbolt initializes it. Pages that
// are neither reachable nor free are not an error: bbolt only leaks them.
func checkFile(f io.ReaderAt, size int64) error {
	if size == 0 {
		return nil
	}
	ps, err := pageSize(f, size)
	if err != nil {
		return err
	}
	if size < 2*int64(ps) {
		return damagef("file of %d bytes is shorter than its two meta pages", size)
	}
	// bbolt uses the valid meta with the higher transaction ID.
	var metas [2]boltMeta
	var valid [2]bool
	buf := make([]byte, ps)
	for i := range 2 {
		if _, err := f.ReadAt(buf, int64(i)*int64(ps)); err != nil {
			return fmt.Errorf("read meta page %d: %w", i, err)
		}
		metas[i], valid[i] = readMeta(buf)
	}
	m := metas[0]
	if !valid[0] || (valid[1] && metas[1].txid > metas[0].txid) {
		m = metas[1]
	}
	if m.pageSize != uint32(ps) {
		return damagef("meta page size %d differs from the file's %d", m.pageSize, ps)
	}
	if m.pgid < 4 || m.pgid > uint64(size)/uint64(ps) {
		return damagef("meta counts %d pages but the file holds %d (truncated?)", m.pgid, size/int64(ps))
	}
	w := &walker{f: f, ps: ps, pgid: m.pgid, seen: make(map[uint64]bool)}
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := w.tree(m.root, 0); err != nil {
		return err
	}
	for _, id := range w.free {
		if w.seen[id] {
			return damagef("page %d is both free and in use", id)
		}
	}
	return nil
}

// pageSize finds the page size as bbolt does: from the first meta page if
// it is valid, else from the second, tried at each possible offset.
func pageSize(f io.ReaderAt, size int64) (int, error) {
	var buf [0x1000]byte
	if n, _ := f.ReadAt(buf[:], 0); n == len(buf) {
		if m, ok := readMeta(buf[:]); ok {
			return checkPageSize(m.pageSize)
		}
	}
	for i := range 15 {
		pos := int64(1024) << i
		if pos >= size-1024 {
			break
		}
		n, _ := f.ReadAt(buf[:], pos)
		if m, ok := readMeta(buf[:n]); ok {
			return checkPageSize(m.pageSize)
		}
	}
	return 0, damagef("neither meta page is valid (not a bbolt file, or both metas damaged)")
}

func checkPageSize(ps uint32) (int, error) {
	if ps < 1024 || ps > 1<<24 {
		return 0, damagef("meta page size %d is out of range", ps)
	}
	return int(ps), nil
}

// walker follows a file's pages from the root bucket.
type walker struct {
	f    io.ReaderAt
	ps   int
	pgid uint64          // the high water mark: pages 0 to pgid-1 exist
	seen map[uint64]bool // pages reached, overflow pages included
	free []uint64
	bufs [][]byte // one page buffer per depth: a parent's keys stay valid below it
}

// page reads page id with its overflow pages, which must lie below the high
// water mark and must not have been reached before (a page reached twice
// would make bbolt walk a cycle forever or hand out one page twice).
func (w *walker) page(id uint64, what string, depth int) ([]byte, error) {
	if id < 2 || id >= w.pgid {
		return nil, damagef("%s page %d is outside the file's %d pages", what, id, w.pgid)
	}
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, make([]byte, w.ps))
	}
	hdr := w.bufs[depth][:w.ps]
	if _, err := w.f.ReadAt(hdr, int64(id)*int64(w.ps)); err != nil {
		return nil, damagef("%s page %d cannot be read: %v", what, id, err)
	}
	if got := le.Uint64(hdr); got != id {
		return nil, damagef("%s page %d holds page %d's header", what, id, got)
	}
	overflow := uint64(le.Uint32(hdr[12:]))
	if overflow >= w.pgid-id {
		return nil, damagef("%s page %d runs %d pages past the file's end", what, id, overflow)
	}
	for i := range overflow + 1 {
		if w.seen[id+i] {
			return nil, damagef("page %d is reached twice", id+i)
		}
		w.seen[id+i] = true
	}
	if overflow == 0 {
		return hdr, nil
	}
	n := (overflow + 1) * uint64(w.ps)
	if uint64(cap(w.bufs[depth])) < n {
		w.bufs[depth] = make([]byte, n)
	}
	p := w.bufs[depth][:n]
	if _, err := w.f.ReadAt(p, int64(id)*int64(w.ps)); err != nil {
		return nil, damagef("%s page %d cannot be read: %v", what, id, err)
	}
	return p, nil
}

func (w *walker) freelist(id uint64) error {
	p, err := w.page(id, "freelist", 0)
	if err != nil {
		return err
	}
	if flags := le.Uint16(p[8:]); flags != freelistPage {
		return damagef("freelist page %d has type %#x", id, flags)
	}
	start, count := uint64(pageHeader), uint64(le.Uint16(p[10:]))
	if count == 0xFFFF {
		count, start = le.Uint64(p[pageHeader:]), pageHeader+8
	}
	if count > (uint64(len(p))-start)/8 {
		return damagef("freelist page %d lists %d pages, more than it can hold", id, count)
	}
	dup := make(map[uint64]bool, count)
	for i := range count {
		free := le.Uint64(p[start+8*i:])
		if free < 2 || free >= w.pgid {
			return damagef("freelist page %d lists page %d, outside the file's %d pages", id, free, w.pgid)
		}
		if dup[free] {
			return damagef("freelist page %d lists page %d twice", id, free)
		}
		dup[free] = true
		w.free = append(w.free, free)
	}
	return nil
}

// tree checks the bucket whose root page is root.
func (w *walker) tree(root uint64, depth int) error {
	if depth > maxDepth {
		return damagef("bucket root page %d lies more than %d levels deep", root, maxDepth)
	}
	p, err := w.page(root, "bucket root", depth)
	if err != nil {
		return err
	}
	return w.node(p, root, nil, nil, depth)
}

// node checks branch or leaf page p (page id, 0 for an inline page), whose
// keys must lie in [lo, hi) when those are set.
func (w *walker) node(p []byte, id uint64, lo, hi []byte, depth int) error {
	if depth > maxDepth {
		return damagef("page %d lies more than %d levels deep", id, maxDepth)
	}
	flags, count := le.Uint16(p[8:]), uint64(le.Uint16(p[10:]))
	if pageHeader+count*elemSize > uint64(len(p)) {
		return damagef("page %d lists %d elements, more than it can hold", id, count)
	}
	var prev []byte
	for i := range count {
		off := pageHeader + i*elemSize
		e := p[off : off+elemSize]
		var pos, ksize, vsize uint64
		switch flags {
		case branchPage:
			pos, ksize = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:]))
		case leafPage:
			pos, ksize, vsize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		default:
			return damagef("page %d has type %#x where a branch or leaf page belongs", id, flags)
		}
		if off+pos+ksize+vsize > uint64(len(p)) {
			return damagef("element %d of page %d lies past the page's end", i, id)
		}
		key := p[off+pos : off+pos+ksize]
		if ksize == 0 {
			return damagef("element %d of page %d has an empty key", i, id)
		}
		if (prev != nil && bytes.Compare(prev, key) >= 0) || (lo != nil && bytes.Compare(key, lo) < 0) ||
			(hi != nil && bytes.Compare(key, hi) >= 0) {
			return damagef("the keys of page %d are out of order", id)
		}
		prev = key
		if flags == branchPage {
			next := hi
			if i+1 < count {
				ne := p[off+elemSize:]
				npos, nsize := uint64(le.Uint32(ne)), uint64(le.Uint32(ne[4:]))
				if off+elemSize+npos+nsize > uint64(len(p)) {
					return damagef("element %d of page %d lies past the page's end", i+1, id)
				}
				next = p[off+elemSize+npos : off+elemSize+npos+nsize]
			}
			child := le.Uint64(e[8:])
			if depth+1 > maxDepth {
				return damagef("page %d lies more than %d levels deep", child, maxDepth)
			}
			c, err := w.page(child, "branch child", depth+1)
			if err != nil {
				return err
			}
			if err := w.node(c, child, key, next, depth+1); err != nil {
				return err
			}
			continue
		}
		if le.Uint32(e)&bucketLeaf == 0 {
			continue
		}
		v := p[off+pos+ksize : off+pos+ksize+vsize]
		if len(v) < 16 {
			return damagef("bucket element %d of page %d is %d bytes, too short", i, id, len(v))
		}
		if root := le.Uint64(v); root != 0 {
			if err := w.tree(root, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := v[16:]
		if len(inline) < pageHeader {
			return damagef("inline bucket %d of page %d is %d bytes, too short", i, id, len(inline))
		}
		if f := le.Uint16(inline[8:]); f != leafPage {
			return damagef("inline bucket %d of page %d has type %#x", i, id, f)
		}
		// bbolt reads an inline page in place, aligned or not; its element
		// offsets count from within the value, so bound them by it.
		if err := w.node(inline, 0, nil, nil, depth+1); err != nil {
			return err
		}
	}
	if flags == branchPage && count == 0 {
		return damagef("branch page %d is empty", id)
	}
	return nil
}

// CheckFile checks the bbolt file at path without mapping it, as Open does
// before it maps a file: it reads the meta pages, then every page reachable
// from the root bucket and the freelist, and reports the first problem that
// would make bbolt fault, panic or loop, wrapped in ErrDamaged. It takes a
// shared lock on the file and fails at once, with an error naming the file,
// when another process holds it (a running server has checked its file
// when it opened it). A missing file is an error; an empty one is sound.
func CheckFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bbolt: check %s: %w", path, err)
	}
	defer f.Close()
	if err := lockFile(f, false, 0); err != nil {
		return openError(path, 0, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("bbolt: check %s: %w", path, err)
	}
	if err := checkFile(f, fi.Size()); err != nil {
		return fmt.Errorf("bbolt: check %s: %w", path, err)
	}
	return nil
}

// looksLikeBolt reports whether the file at f has the marks of a bbolt file
// even where its meta pages are damaged: a meta magic number, or page headers
// that carry their own page numbers. Only such a file is ever moved aside.
func looksLikeBolt(f io.ReaderAt, size int64) bool {
	var buf [pageHeader + metaSize]byte
	for pos := int64(0); pos < size && pos <= 1<<24; pos = max(2*pos, 1024) {
		if n, _ := f.ReadAt(buf[:], pos); n >= pageHeader+8 && le.Uint32(buf[pageHeader:]) == boltMagic {
			return true
		}
	}
	ps := int64(os.Getpagesize())
	hits := 0
	for id := int64(2); id < 34 && (id+1)*ps <= size; id++ {
		if n, _ := f.ReadAt(buf[:pageHeader], id*ps); n == pageHeader && le.Uint64(buf[:]) == uint64(id) {
			switch le.Uint16(buf[8:]) {
			case branchPage, leafPage, freelistPage:
				hits++
			}
		}
	}
	return hits >= 2
}
