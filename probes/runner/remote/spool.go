package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

// spool keeps result batches on disk until the server acknowledges them: one file per batch,
// named by a sequence number so they are sent in the order they were made, each with the
// Idempotency-Key it is always sent with. It holds at most max bytes: beyond, the oldest
// batch is dropped (counted and logged), since the newest results say the most.
type spool struct {
	dir string
	max int64
	log *slog.Logger

	mu      sync.Mutex
	files   []spooled // oldest first
	total   int64
	next    uint64
	dropped int // batches dropped for room, since start
	closed  bool
	wake    chan struct{}
}

type spooled struct {
	name string
	size int64
}

// entry is a spooled batch as stored.
type entry struct {
	Key   string                   `json:"key"`
	Batch client.WorkerResultBatch `json:"batch"`
	file  string
}

const spoolExt = ".batch"

func openSpool(dir string, limit int64, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &spool{dir: dir, max: limit, log: log, wake: make(chan struct{}, 1)}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, d := range names {
		name := d.Name()
		if strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name)) // a write cut short by a crash
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, spoolExt), 10, 64)
		if !strings.HasSuffix(name, spoolExt) || err != nil {
			continue
		}
		info, err := d.Info()
		if err != nil {
			continue
		}
		s.files = append(s.files, spooled{name: name, size: info.Size()})
		s.total += info.Size()
		s.next = max(s.next, seq+1)
	}
	slices.SortFunc(s.files, func(a, b spooled) int { return strings.Compare(a.name, b.name) })
	if len(s.files) > 0 {
		log.Info("results spooled by an earlier run will be sent", "batches", len(s.files), "bytes", s.total, "dir", dir)
	}
	return s, nil
}

// put stores a batch under a fresh Idempotency-Key.
func (s *spool) put(b client.WorkerResultBatch) {
	data, err := json.Marshal(entry{Key: uuid.NewString(), Batch: b})
	if err != nil {
		s.log.Error("spool: encoding a batch failed; its results are lost", "results", len(b.Results), "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := fmt.Sprintf("%020d%s", s.next, spoolExt)
	s.next++
	path := filepath.Join(s.dir, name)
	if err := writeFile(path, data); err != nil {
		s.log.Error("spool: writing a batch failed; its results are lost", "results", len(b.Results), "err", err)
		return
	}
	s.files = append(s.files, spooled{name: name, size: int64(len(data))})
	s.total += int64(len(data))
	for s.total > s.max && len(s.files) > 1 {
		old := s.files[0]
		_ = os.Remove(filepath.Join(s.dir, old.name))
		s.files, s.total = s.files[1:], s.total-old.size
		s.dropped++
		s.log.Warn("spool full: dropped the oldest result batch", "max_bytes", s.max, "dropped_batches", s.dropped)
	}
	s.signal()
}

// writeFile writes data to path whole or not at all.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (s *spool) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// oldest waits for the oldest batch; ok is false when ctx ends, or the spool is closed and empty.
func (s *spool) oldest(ctx context.Context) (entry, bool) {
	for {
		s.mu.Lock()
		if len(s.files) > 0 {
			name := s.files[0].name
			s.mu.Unlock()
			data, err := os.ReadFile(filepath.Join(s.dir, name))
			var e entry
			if err == nil {
				err = json.Unmarshal(data, &e)
			}
			e.file = name
			if err != nil {
				s.log.Error("spool: an unreadable batch is dropped", "file", name, "err", err)
				s.remove(e)
				continue
			}
			return e, true
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return entry{}, false
		}
		select {
		case <-ctx.Done():
			return entry{}, false
		case <-s.wake:
		}
	}
}

// remove deletes a batch (sent, or refused for good); one dropped for room meanwhile is gone already.
func (s *spool) remove(e entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = os.Remove(filepath.Join(s.dir, e.file))
	if i := slices.IndexFunc(s.files, func(f spooled) bool { return f.name == e.file }); i >= 0 {
		s.total -= s.files[i].size
		s.files = slices.Delete(s.files, i, i+1)
	}
}

// close lets oldest return false once the spool is empty.
func (s *spool) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.signal()
}

func (s *spool) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}
