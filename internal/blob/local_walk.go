package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Walk implements [Store.Walk]. It reads one directory at a time and holds no
// lock while fn runs, so fn may write to or delete from the store; a
// directory removed meanwhile is skipped.
func (l *Local) Walk(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	base := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	return l.walkDir(ctx, base, prefix, fn)
}

// walkEntry is a directory entry that is an object (key set) or a
// subdirectory of keys (dir set), with the name it sorts by.
type walkEntry struct {
	sortName string // the object's last segment, or the directory's name + "/"
	entry    fs.DirEntry
}

// walkDir visits the objects in dir and below whose keys start with prefix,
// in key order: an object "x" sorts before the directory "x" (whose keys
// are "x/…"), and a directory "x" after objects "x-1" and "x.z", as their
// keys do.
func (l *Local) walkDir(ctx context.Context, dir, prefix string, fn func(ObjectInfo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := fs.ReadDir(l.root.FS(), dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
			return nil // no such directory, or removed since its parent was read
		}
		return fmt.Errorf("blob: walk %q: %w", prefix, err)
	}
	list := make([]walkEntry, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			if validateSegment(name, true) == nil {
				list = append(list, walkEntry{name + "/", e})
			}
		case e.Type().IsRegular():
			if stem, ok := strings.CutSuffix(name, objectSuffix); ok && validateSegment(stem, true) == nil {
				list = append(list, walkEntry{stem, e})
			} // else a temporary file, or not ours
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].sortName < list[j].sortName })
	for _, w := range list {
		key := path.Join(dir, strings.TrimSuffix(w.sortName, "/"))
		if w.entry.IsDir() {
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				continue
			}
			if err := l.walkDir(ctx, key, prefix, fn); err != nil {
				return err
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		info, err := w.entry.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the directory was read
		}
		if err != nil {
			return fmt.Errorf("blob: walk %q: %w", prefix, err)
		}
		if err := fn(ObjectInfo{Key: key, Modified: info.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}
