package checkpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/claude-bridge/claude-bridge/internal/saferead"
)

// Snapshots catches the changes nothing reports: a Bash command's sed -i,
// a formatter, a code generator, files created and deleted. Before each
// Bash command the task snapshots its workspace folder, after it snapshots
// again, and the files that differ are captured with their content from
// the first snapshot.
//
// A snapshot is `git add -A` of the folder into a private object store
// under the state directory (<state>/snapshots/<hash of the folder>/git,
// with an index of its own), then `git write-tree`: the folder's
// .gitignore files are honoured, the user's own .git is never read or
// written (git never adds a .git), and git runs with no configuration of
// the user's or the system's, so no hook, filter, fsmonitor or credential
// helper of theirs runs. The index keeps each file's stat data, so only
// files that changed are read again.
//
// Cost, measured on this project's test machine (2 cores, git 2.39) with a
// folder of 10,000 small files: the first snapshot takes 0.9 s (it runs in
// the background as the task starts, Warm), each later one 35 ms; the
// store holds about 4 KiB per file. Bounds: the first snapshot may take
// WarmLimit (30 s), a later one TakeLimit (5 s); a folder that takes
// longer (hundreds of thousands of files) is not snapshotted again while
// the bridge runs, and a store past MaxStore (512 MiB) is started afresh.
// Without git (or for such a folder) only files open in the editor are
// compared (FileSet) and files claude edits with its file tools captured.
type Snapshots struct {
	dir string
	git string // the git executable; "" when there is none
	// warmLimit and takeLimit are WarmLimit and TakeLimit (tests shorten
	// them).
	warmLimit, takeLimit time.Duration

	mu      sync.Mutex // guards folders
	folders map[string]*snapFolder
}

// Limits of snapshots (see Snapshots).
const (
	WarmLimit = 30 * time.Second
	TakeLimit = 5 * time.Second
	MaxStore  = 512 << 20
)

type snapFolder struct {
	path, gitDir, index string

	lock chan struct{} // held while git runs on the index (a 1-slot semaphore)

	// stateRel is the state directory's slash path in the folder, with a
	// final "/", when it is inside it (kept out of snapshots); "" if not.
	stateRel string

	mu       sync.Mutex              // guards disabled, warm, ignored and last
	disabled string                  // why the folder is not snapshotted ("" when it is)
	warm     chan struct{}           // closed when the first snapshot is done; nil before Warm
	ignored  map[string]ignoredEntry // the last snapshot's ignored files (their contents are read again only when they changed)
	last     *treeEntries            // the files of the last snapshot's tree
}

// NewSnapshots returns the snapshots kept under dir (<state>/snapshots).
// gitPath "" finds git on PATH (none: only FileSet snapshots).
func NewSnapshots(dir, gitPath string) *Snapshots {
	if gitPath == "" {
		gitPath, _ = exec.LookPath("git")
	}
	return &Snapshots{dir: dir, git: gitPath, folders: map[string]*snapFolder{}, warmLimit: WarmLimit, takeLimit: TakeLimit}
}

// Snapshot is a folder's content at one moment: a git tree, the
// permission bits git does not keep, and the files .gitignore keeps out of
// the tree.
type Snapshot struct {
	Folder string
	Tree   string
	// At is when the snapshot began: it holds the folder as it was then
	// (or a moment later).
	At time.Time
	// Links are the symbolic links in the folder (absolute paths), for a
	// caller that watches what they point to outside it.
	Links []string
	// modes are the files whose permission bits git does not keep (other
	// than 0644 for 100644 and 0755 for 100755), by slash path.
	modes map[string]modeEntry
	// ignored is what .gitignore keeps out of the tree, by slash path
	// (folders end in "/"); tooManyIgnored says more were left unwatched.
	ignored        map[string]ignoredEntry
	tooManyIgnored bool
}

// modeEntry is a file's git mode and its real permission bits.
type modeEntry struct {
	git  string
	perm fs.FileMode
}

// ignoredEntry is a file or folder .gitignore keeps out of snapshots, as it
// was: its stat data, and a small file's content.
type ignoredEntry struct {
	dir      bool
	size     int64
	mtime    time.Time
	perm     fs.FileMode
	data     []byte
	hasData  bool
	tooLarge bool // a file over maxIgnoredFile (or past maxIgnoredTotal): no content kept
}

// Bounds of what a snapshot keeps of ignored files (a .env, a local
// config: small, and a real loss when a command deletes them); folders
// .gitignore leaves out (node_modules/, build/) are watched for being
// deleted or changed, not copied.
const (
	maxIgnoredFile    = 1 << 20
	maxIgnoredTotal   = 8 << 20
	maxIgnoredEntries = 2000
)

// Change is a file that differs between two snapshots, with what it was in
// the first.
type Change struct {
	Path string // absolute
	// Before is what was at Path in the first snapshot (Exists false:
	// nothing): a file's content and permission bits, or a symbolic link.
	Before Content
	// TooLarge: it existed but was larger than the cap; Before.Data is
	// empty.
	TooLarge bool
	// Uncovered, when set, says (naming the file) that it changed but what
	// it was is not known: it cannot be checkpointed.
	Uncovered string
}

// Available says why folder cannot be snapshotted ("" when it can).
func (s *Snapshots) Available(folder string) string {
	if s == nil || s.git == "" {
		return "git is not installed"
	}
	f := s.folder(folder)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.disabled
}

func (s *Snapshots) folder(path string) *snapFolder {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.folders[path]
	if f == nil {
		h := sha256.Sum256([]byte(path))
		base := filepath.Join(s.dir, hex.EncodeToString(h[:8]))
		f = &snapFolder{path: path, gitDir: filepath.Join(base, "git"), index: filepath.Join(base, "index"), lock: make(chan struct{}, 1)}
		if rel, err := filepath.Rel(path, filepath.Dir(s.dir)); err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../") {
			f.stateRel = filepath.ToSlash(rel) + "/"
		}
		s.folders[path] = f
	}
	return f
}

// Warm takes the folder's first snapshot in the background, so that the
// first Bash command of a task does not wait the cold cost. Its goroutine
// ends with the snapshot (bounded by WarmLimit).
func (s *Snapshots) Warm(folder string) {
	if s == nil || s.git == "" {
		return
	}
	f := s.folder(folder)
	f.mu.Lock()
	if f.warm != nil || f.disabled != "" {
		f.mu.Unlock()
		return
	}
	f.warm = make(chan struct{})
	f.mu.Unlock()
	go func() {
		defer close(f.warm)
		ctx, cancel := context.WithTimeout(context.Background(), s.warmLimit)
		defer cancel()
		if _, err := s.take(ctx, f, s.warmLimit); err != nil {
			f.disable(err.Error())
		}
	}()
}

func (f *snapFolder) disable(why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.disabled == "" {
		f.disabled = why
	}
}

// ErrWarming is Take's error when the folder's first snapshot (Warm) has
// not finished within TakeLimit: this snapshot is not taken, later ones may
// be.
var ErrWarming = errors.New("its first snapshot was not ready yet (a large folder)")

// Take snapshots folder now. It waits for the folder's first snapshot
// (Warm) if one is under way, at most TakeLimit (ErrWarming); another
// error says why the folder cannot be snapshotted (then it is not tried
// again).
func (s *Snapshots) Take(ctx context.Context, folder string) (Snapshot, error) {
	if s == nil || s.git == "" {
		return Snapshot{}, errors.New("git is not installed")
	}
	f := s.folder(folder)
	f.mu.Lock()
	warm, disabled := f.warm, f.disabled
	f.mu.Unlock()
	if disabled != "" {
		return Snapshot{}, errors.New(disabled)
	}
	limit := s.takeLimit
	if warm != nil {
		// A Bash command waits for the first snapshot only so long: in a
		// very large folder it goes on without one (and later commands get
		// theirs once it is done).
		wait := time.NewTimer(s.takeLimit)
		defer wait.Stop()
		select {
		case <-warm:
		case <-wait.C:
			return Snapshot{}, ErrWarming
		case <-ctx.Done():
			return Snapshot{}, ctx.Err()
		}
		if why := s.Available(folder); why != "" {
			return Snapshot{}, errors.New(why)
		}
	} else {
		limit = s.warmLimit // a cold snapshot
	}
	tctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	snap, err := s.take(tctx, f, limit)
	if err != nil && ctx.Err() == nil {
		f.disable(err.Error())
	}
	return snap, err
}

// take runs git add -A and git write-tree on f, holding its lock.
func (s *Snapshots) take(ctx context.Context, f *snapFolder, limit time.Duration) (Snapshot, error) {
	select {
	case f.lock <- struct{}{}:
	case <-ctx.Done():
		return Snapshot{}, ctx.Err()
	}
	defer func() { <-f.lock }()
	at := time.Now()
	if err := s.prepare(ctx, f); err != nil {
		return Snapshot{}, err
	}
	if _, err := s.run(ctx, f, nil, "add", "-A", "--ignore-errors", "."); err != nil {
		if ctx.Err() != nil {
			return Snapshot{}, fmt.Errorf("snapshotting %s took longer than %v", f.path, limit)
		}
		return Snapshot{}, err
	}
	out, err := s.run(ctx, f, nil, "write-tree")
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Folder: f.path, Tree: strings.TrimSpace(string(out)), At: at}
	if err := s.modesAndLinks(ctx, f, &snap); err != nil {
		return Snapshot{}, err
	}
	if err := s.ignoredFiles(ctx, f, &snap); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}

// modesAndLinks records the permission bits of the snapshot's files that
// git does not keep, and its symbolic links: git's index knows each file,
// one lstat each (about 10 ms for 10,000 files, their inodes cached by
// git add).
func (s *Snapshots) modesAndLinks(ctx context.Context, f *snapFolder, snap *Snapshot) error {
	entries, err := s.entries(ctx, f, snap.Tree)
	if err != nil {
		return err
	}
	for _, e := range entries.files {
		mode, path := e.mode, e.path
		abs := filepath.Join(f.path, filepath.FromSlash(path))
		switch mode {
		case "120000":
			snap.Links = append(snap.Links, abs)
		case "100644", "100755":
			fi, err := os.Lstat(abs)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if perm := fi.Mode().Perm(); perm != gitPerm(mode) {
				if snap.modes == nil {
					snap.modes = map[string]modeEntry{}
				}
				snap.modes[path] = modeEntry{git: mode, perm: perm}
			}
		}
	}
	return nil
}

// treeEntries are the files of one tree (git's index right after the
// snapshot), kept while the folder's tree stays the same (most snapshots
// before a Bash command have the tree of the one after the last).
type treeEntries struct {
	tree       string
	files      []indexEntry
	gitignores bool // the tree has a .gitignore: something may be ignored
}

type indexEntry struct{ mode, path string }

// entries are the files of the snapshot's tree.
func (s *Snapshots) entries(ctx context.Context, f *snapFolder, tree string) (*treeEntries, error) {
	f.mu.Lock()
	last := f.last
	f.mu.Unlock()
	if last != nil && last.tree == tree {
		return last, nil
	}
	out, err := s.run(ctx, f, nil, "ls-files", "-s", "-z")
	if err != nil {
		return nil, err
	}
	te := &treeEntries{tree: tree}
	for _, e := range strings.Split(string(out), "\x00") {
		meta, path, ok := strings.Cut(e, "\t")
		if !ok {
			continue
		}
		mode, _, _ := strings.Cut(meta, " ")
		te.files = append(te.files, indexEntry{mode, path})
		te.gitignores = te.gitignores || path == ".gitignore" || strings.HasSuffix(path, "/.gitignore")
	}
	f.mu.Lock()
	f.last = te
	f.mu.Unlock()
	return te, nil
}

// gitPerm is the permission bits git's mode stands for.
func gitPerm(mode string) fs.FileMode {
	if mode == "100755" {
		return 0o755
	}
	return 0o644
}

// perm is the permission bits of path in the snapshot, whose git mode is
// git (from the tree).
func (snap Snapshot) perm(path, git string) fs.FileMode {
	if m, ok := snap.modes[path]; ok {
		return m.perm
	}
	return gitPerm(git)
}

// ignoredFiles records what .gitignore keeps out of the snapshot: each
// ignored file's stat data and, when small, its content (read again only
// when its stat data changed); each ignored folder's stat data.
func (s *Snapshots) ignoredFiles(ctx context.Context, f *snapFolder, snap *Snapshot) error {
	f.mu.Lock()
	last := f.last
	f.mu.Unlock()
	if last == nil || !last.gitignores {
		// No .gitignore: nothing is left out (but the state directory).
		return nil
	}
	out, err := s.run(ctx, f, nil, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
	if err != nil {
		return err
	}
	f.mu.Lock()
	prev := f.ignored
	f.mu.Unlock()
	snap.ignored = map[string]ignoredEntry{}
	var kept int64
	for _, path := range strings.Split(string(out), "\x00") {
		if path == "" || f.stateRel != "" && (strings.HasPrefix(path, f.stateRel) || strings.HasSuffix(path, "/") && strings.HasPrefix(f.stateRel, path)) {
			continue // the bridge's own state (the snapshots themselves)
		}
		if len(snap.ignored) == maxIgnoredEntries {
			snap.tooManyIgnored = true
			break
		}
		abs := filepath.Join(f.path, filepath.FromSlash(strings.TrimSuffix(path, "/")))
		fi, err := os.Lstat(abs)
		if err != nil {
			continue
		}
		e := ignoredEntry{dir: fi.IsDir(), size: fi.Size(), mtime: fi.ModTime(), perm: fi.Mode().Perm()}
		if fi.Mode().IsRegular() {
			if p, ok := prev[path]; ok && p.hasData && p.size == e.size && p.mtime.Equal(e.mtime) {
				e.data, e.hasData = p.data, true
			} else if e.size <= maxIgnoredFile && kept+e.size <= maxIgnoredTotal {
				rctx, cancel := context.WithTimeout(ctx, readTimeout)
				b, err := saferead.Read(rctx, abs, maxIgnoredFile)
				cancel()
				e.data, e.hasData = b, err == nil
			}
			if e.hasData {
				kept += int64(len(e.data))
			} else {
				e.tooLarge = true
			}
		}
		snap.ignored[path] = e
	}
	f.mu.Lock()
	f.ignored = snap.ignored
	f.mu.Unlock()
	return nil
}

// prepare creates f's store, or starts it afresh when it has grown past
// MaxStore; it keeps the state directory out of the snapshots when it is
// inside the folder.
func (s *Snapshots) prepare(ctx context.Context, f *snapFolder) error {
	if _, err := os.Stat(filepath.Join(f.gitDir, "HEAD")); err == nil {
		if dirSize(filepath.Join(f.gitDir, "objects")) <= MaxStore {
			return nil
		}
		os.RemoveAll(filepath.Dir(f.gitDir))
	}
	if err := os.MkdirAll(filepath.Dir(f.gitDir), 0o700); err != nil {
		return err
	}
	if _, err := s.run(ctx, f, nil, "init", "-q", "--bare", f.gitDir); err != nil {
		return err
	}
	state := filepath.Dir(s.dir)
	if rel, err := filepath.Rel(f.path, state); err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../") {
		// The state directory is in the folder (a workspace of $HOME): keep
		// the snapshots out of themselves.
		if err := os.MkdirAll(filepath.Join(f.gitDir, "info"), 0o700); err != nil {
			return err
		}
		exclude := "/" + filepath.ToSlash(rel) + "/\n"
		if err := WriteAtomic(filepath.Join(f.gitDir, "info", "exclude"), []byte(exclude), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// run runs git on f's store and work tree, isolated from the user's and
// the system's git configuration.
func (s *Snapshots) run(ctx context.Context, f *snapFolder, stdin []byte, args ...string) ([]byte, error) {
	base := []string{"-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.autocrlf=false",
		"-c", "core.safecrlf=false", "-c", "gc.auto=0", "-c", "core.quotePath=false", "-c", "advice.addEmbeddedRepo=false",
		"-c", "core.untrackedCache=true"}
	cmd := exec.CommandContext(ctx, s.git, append(base, args...)...)
	cmd.Dir = f.path
	home := filepath.Dir(f.gitDir)
	cmd.Env = []string{
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=" + home, "XDG_CONFIG_HOME=" + home,
		"GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C", "PATH=" + os.Getenv("PATH"),
	}
	if args[0] == "init" {
		cmd.Dir = filepath.Dir(f.gitDir) // the store does not exist yet
	} else {
		cmd.Env = append(cmd.Env, "GIT_DIR="+f.gitDir, "GIT_WORK_TREE="+f.path, "GIT_INDEX_FILE="+f.index)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return out, fmt.Errorf("git %s in %s: %v %s", args[0], f.path, err, msg)
	}
	return out, nil
}

// Changes lists the files that differ between a and b (snapshots of the
// same folder), with what they were in a (contents up to maxFile bytes
// each): changed, created or deleted files and symbolic links, files whose
// permission bits alone changed, and the small files .gitignore keeps out
// of the tree; what changed but cannot be known (an ignored folder, an
// ignored file too large to keep) is a Change with Uncovered set.
func (s *Snapshots) Changes(ctx context.Context, a, b Snapshot, maxFile int64) ([]Change, error) {
	f := s.folder(a.Folder)
	var changes []Change
	inDiff := map[string]bool{}
	if a.Tree != b.Tree {
		out, err := s.run(ctx, f, nil, "diff-tree", "-r", "-z", "--no-renames", "--raw", a.Tree, b.Tree)
		if err != nil {
			if _, cerr := s.run(ctx, f, nil, "cat-file", "-e", a.Tree); cerr != nil && ctx.Err() == nil {
				return nil, &LostError{Dir: s.dir}
			}
			return nil, err
		}
		fields := strings.Split(string(out), "\x00")
		for i := 0; i+1 < len(fields); i += 2 {
			meta, path := strings.Fields(strings.TrimPrefix(fields[i], ":")), fields[i+1]
			if len(meta) < 5 {
				break
			}
			srcMode, dstMode, srcSum := meta[0], meta[1], meta[2]
			if srcMode == "160000" || dstMode == "160000" {
				continue // another repository inside the folder
			}
			inDiff[path] = true
			c := Change{Path: filepath.Join(f.path, filepath.FromSlash(path))}
			if strings.Trim(srcSum, "0") != "" {
				if err := s.blobBefore(ctx, f, &c, srcSum, srcMode, a.perm(path, srcMode), maxFile); err != nil {
					return nil, err
				}
			}
			changes = append(changes, c)
		}
	}
	// Permission bits alone (chmod 600): the tree has the same blob and,
	// for bits other than the executable one, the same mode.
	for path := range unionKeys(a.modes, b.modes) {
		if inDiff[path] {
			continue
		}
		git := a.modes[path].git
		if git == "" {
			git = b.modes[path].git
		}
		if a.perm(path, git) == b.perm(path, git) {
			continue
		}
		c := Change{Path: filepath.Join(f.path, filepath.FromSlash(path))}
		out, err := s.run(ctx, f, nil, "rev-parse", a.Tree+":"+path)
		if err != nil {
			return nil, err
		}
		if err := s.blobBefore(ctx, f, &c, strings.TrimSpace(string(out)), git, a.perm(path, git), maxFile); err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	changes = append(changes, ignoredChanges(f.path, a, b)...)
	return changes, nil
}

// LostError is Changes's error when the first snapshot is no longer in
// the store (deleted while a Bash command ran).
type LostError struct{ Dir string }

func (e *LostError) Error() string {
	return "the snapshot taken before it is gone (the bridge's snapshot store, " + e.Dir + ", was deleted or cleared meanwhile)"
}

// SnapshotProblem says in a person's words why a folder's changes could
// not be found: no path of git's own, no object ids.
func SnapshotProblem(err error) string {
	var lost *LostError
	if errors.As(err, &lost) {
		return lost.Error()
	}
	msg := err.Error()
	if i := strings.Index(msg, "fatal: "); i >= 0 {
		msg = "git failed: " + msg[i+len("fatal: "):]
	}
	return msg
}

// blobBefore fills c.Before from the blob sum of git mode mode (a
// symbolic link's target, or a file's content and perm).
func (s *Snapshots) blobBefore(ctx context.Context, f *snapFolder, c *Change, sum, mode string, perm fs.FileMode, maxFile int64) error {
	size, err := s.run(ctx, f, nil, "cat-file", "-s", sum)
	if err != nil {
		return err
	}
	if n, _ := strconv.ParseInt(strings.TrimSpace(string(size)), 10, 64); n > maxFile {
		c.TooLarge, c.Before = true, Content{Exists: true, Mode: perm}
		return nil
	}
	data, err := s.run(ctx, f, nil, "cat-file", "blob", sum)
	if err != nil {
		return err
	}
	c.Before = Content{Exists: true, Data: data, Mode: perm}
	if mode == "120000" {
		c.Before = Content{Exists: true, Link: string(data)}
	}
	return nil
}

func unionKeys[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// ignoredChanges compares what .gitignore keeps out of snapshots a and b
// of folder: a small ignored file changed, created or deleted is a Change
// like any; a folder deleted or changed, or a file too large to keep, is
// named Uncovered.
func ignoredChanges(folder string, a, b Snapshot) []Change {
	var out []Change
	abs := func(path string) string {
		return filepath.Join(folder, filepath.FromSlash(strings.TrimSuffix(path, "/")))
	}
	for path := range unionKeys(a.ignored, b.ignored) {
		was, inA := a.ignored[path]
		is, inB := b.ignored[path]
		switch {
		case !inA && is.dir:
			// A folder made (node_modules/ by npm install): nothing was lost.
		case !inA:
			out = append(out, Change{Path: abs(path)})
		case was.dir:
			switch {
			case !inB:
				out = append(out, Change{Path: abs(path), Uncovered: fmt.Sprintf("%s (a folder .gitignore leaves out of checkpoints) was deleted or moved by a Bash command: its files are not checkpointed and cannot be restored.", path)})
			case !is.mtime.Equal(was.mtime):
				out = append(out, Change{Path: abs(path), Uncovered: fmt.Sprintf("Files in %s (a folder .gitignore leaves out of checkpoints) were changed by a Bash command: they are not checkpointed and cannot be reverted.", path)})
			}
		case inB && was.hasData && is.hasData && bytes.Equal(was.data, is.data) && was.perm == is.perm:
		case inB && !was.hasData && was.size == is.size && was.mtime.Equal(is.mtime) && was.perm == is.perm:
		case was.hasData:
			out = append(out, Change{Path: abs(path), Before: Content{Exists: true, Data: was.data, Mode: was.perm}})
		default:
			out = append(out, Change{Path: abs(path), Uncovered: fmt.Sprintf("%s (which .gitignore leaves out of the snapshots, larger than the %d KiB kept of such files) was changed or deleted by a Bash command: it is not checkpointed and cannot be reverted.", path, maxIgnoredFile>>10)})
		}
	}
	if b.tooManyIgnored && !a.tooManyIgnored {
		out = append(out, Change{Path: folder, Uncovered: fmt.Sprintf("%s has more than %d files and folders .gitignore leaves out of snapshots: changes Bash commands make to those past the first %d are not checkpointed.", folder, maxIgnoredEntries, maxIgnoredEntries)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// FileSet is the snapshot of some files: those open in the editor when
// the folder cannot be snapshotted with git, and the files outside the
// folder its symbolic links point to.
type FileSet map[string]*Content // path → what was there; nil: nothing

// maxFileSet bounds the files a FileSet reads.
const maxFileSet = 200

// TakeFiles reads paths (at most 200, each up to maxFile bytes; unreadable
// ones left out).
func TakeFiles(ctx context.Context, paths []string, maxFile int64) FileSet {
	set := FileSet{}
	for _, p := range paths {
		if len(set) == maxFileSet {
			break
		}
		c, err := Read(ctx, p, maxFile)
		switch {
		case err != nil:
		case !c.Exists:
			set[p] = nil
		default:
			set[p] = &c
		}
	}
	return set
}

// Changes lists the files of before that differ now, with their content
// in before.
func (before FileSet) Changes(ctx context.Context, maxFile int64) []Change {
	var out []Change
	for p, was := range before {
		now := TakeFiles(ctx, []string{p}, maxFile)
		is, ok := now[p]
		if !ok {
			continue // unreadable now
		}
		switch {
		case was == nil && is == nil:
		case was == nil:
			out = append(out, Change{Path: p})
		case is == nil || !bytes.Equal(was.Data, is.Data) || was.Mode != is.Mode:
			out = append(out, Change{Path: p, Before: *was})
		}
	}
	return out
}
