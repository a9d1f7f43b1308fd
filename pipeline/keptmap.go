package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hlsmark/hlsmark/pipeline/clock"
	"github.com/hlsmark/hlsmark/pipeline/durable"
)

// MappingFile is the file, in a stream's folder, that keeps the decoded
// input's latest timestamp mapping (see ptsMap), so that a restart of the
// stream goes on with it while the input's timestamps run on.
const MappingFile = "mapping.json"

// keptMapping is a ptsMap's mapping as MappingFile holds it: the frame
// whose timestamp is Origin, in the time base TBNum/TBDen of the input
// named Input, has PTS Base.
type keptMapping struct {
	Input  string      `json:"input"`
	TBNum  int64       `json:"tb_num"`
	TBDen  int64       `json:"tb_den"`
	Origin int64       `json:"origin"`
	Base   clock.Ticks `json:"base"`
}

// resumeSlack is how far from a new mapping's base the kept mapping may
// put the first frame after a restart and still be taken: an input whose
// timestamps ran on while the stream restarted lands within it, one that
// started again (a file played from its start, a camera reset) far away.
const resumeSlack = clock.Hz

// loadMapping reads the mapping kept in dir, if any. A missing file is no
// mapping; one that cannot be read or parsed is an error.
func loadMapping(dir string) (*keptMapping, error) {
	b, err := os.ReadFile(filepath.Join(dir, MappingFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("timestamp mapping: %w", err)
	}
	var k keptMapping
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("timestamp mapping %s: %w", filepath.Join(dir, MappingFile), err)
	}
	return &k, nil
}

// saveMapping writes k into dir, durably.
func saveMapping(dir string, k keptMapping) error {
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(dir, MappingFile), b, 0o644)
}

// keepIn makes m keep its mappings in dir (none if dir is empty): it
// tries the one kept there for its first frame, as long as that frame's
// PTS is at least floor (Start.Resume), and writes every new one there. A
// kept mapping that cannot be read is returned as an error for the caller
// to log, and ignored: a new mapping is always safe. A mapping that
// cannot be written (a full disk) is logged to log and the stream goes
// on: only a restart's continuity is lost.
func (m *ptsMap) keepIn(dir string, floor clock.Ticks, log *slog.Logger) error {
	if dir == "" {
		return nil
	}
	m.floor = floor
	m.keep = func(k keptMapping) {
		if err := saveMapping(dir, k); err != nil {
			log.Warn("the timestamp mapping is not kept: a restart will start a new one", "input", m.input, "err", err)
		}
	}
	k, err := loadMapping(dir)
	if err != nil {
		return err
	}
	if k != nil && k.Input == m.input {
		m.kept = k
	}
	return nil
}
