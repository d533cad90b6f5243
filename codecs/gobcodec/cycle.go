package gobcodec

import (
	"encoding"
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// encoding/gob follows pointers, maps, slices and interfaces as deep as they
// go and has no notion of a value it has already seen: a value that refers to
// itself makes it recurse until the goroutine's stack is exhausted, a fatal
// error that ends the process. checkCycles walks what gob would walk first.

// maxDepth bounds the nesting checkCycles follows, and so gob's recursion,
// counting each pointer, interface, element and field as a level: a linked
// list of 50,000 nodes encodes, a deeper value is refused, long before either
// recursion could exhaust the stack.
const maxDepth = 100_000

// visit identifies a reference on the current path: its address and type
// (a struct and its first field share an address), and a slice's length.
type visit struct {
	ptr unsafe.Pointer
	typ reflect.Type
	len int
}

// checkCycles returns an error wrapping ErrCycle when v refers to itself
// along what gob encodes. Shared references without a cycle are fine.
func checkCycles(v any) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || plain(rv.Type()) {
		return nil
	}
	c := cycler{path: map[visit]bool{}}
	return c.walk(rv, 0)
}

type cycler struct {
	path map[visit]bool
}

func (c *cycler) walk(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("gob: value nested more than %d levels deep", maxDepth)
	}
	t := v.Type()
	if plain(t) {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if delegates(t) {
			return nil
		}
		k := visit{ptr: v.UnsafePointer(), typ: t}
		if v.Kind() == reflect.Slice {
			k.len = v.Len()
		}
		if c.path[k] {
			return fmt.Errorf("%w: a %v is reached again inside itself", ErrCycle, t)
		}
		c.path[k] = true
		defer delete(c.path, k)
	}
	switch v.Kind() {
	case reflect.Pointer:
		return c.walk(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return c.walk(v.Elem(), depth+1)
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if err := c.walk(it.Key(), depth+1); err != nil {
				return err
			}
			if err := c.walk(it.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := c.walk(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if delegates(t) {
			return nil
		}
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				if err := c.walk(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var (
	gobEncoder      = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshaler = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
)

// delegates reports whether gob encodes t through its own method rather
// than by walking it.
func delegates(t reflect.Type) bool {
	for _, t := range []reflect.Type{t, reflect.PointerTo(t)} {
		if t.Implements(gobEncoder) || t.Implements(binaryMarshaler) || t.Implements(textMarshaler) {
			return true
		}
	}
	return false
}

var plainTypes sync.Map // reflect.Type → bool

// plain reports whether a value of type t cannot refer to anything (no
// pointer, map, slice or interface among what gob encodes of it), so that it
// need not be walked.
func plain(t reflect.Type) bool {
	if p, ok := plainTypes.Load(t); ok {
		return p.(bool)
	}
	p := isPlain(t)
	plainTypes.Store(t, p)
	return p
}

func isPlain(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Interface:
		return delegates(t)
	case reflect.Slice, reflect.Array:
		return delegates(t) || isPlain(t.Elem())
	case reflect.Struct:
		if delegates(t) {
			return true
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && !isPlain(f.Type) {
				return false
			}
		}
	}
	return true
}
