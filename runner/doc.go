// Package runner runs Claude Code tasks: one claude CLI process per
// conversation, driven the way Anthropic's SDKs drive it (stream-json on
// stdin and stdout, control requests for initialize, interrupt and
// can_use_tool).
//
// It knows nothing of LSP. A task reports what happens through an Observer
// (typed events and permission questions); the LSP server implements it one
// way and the terminal front end another.
//
// Shape (after x/tools' internal/gocommand, which splits a Runner that
// bounds concurrency from an Invocation that is one run):
//   - Manager (manager.go): the registry of tasks, the configuration,
//     Shutdown. It writes no field of a Task or a session.
//   - queue (queue.go, own lock): how many tasks run at once, FIFO.
//   - pool (pool.go, own lock): every claude process and the slots they
//     hold; idle processes parked for follow-ups and warm ones within a
//     budget, a warm one killed, else the least recently used idle one
//     evicted, when a task needs a slot.
//   - warmer (warm.go, own lock): a claude started and initialised ahead
//     of need per workspace folder (Config.Prewarm), replaced when stale;
//     what the real CLI does while it waits is written down there.
//   - Task (task.go, turn.go): one task's state and its turn loop
//     (Task.run), which alone moves the task along; Task.verdict is the one
//     place that decides how it ended, Task.finish the one that records it.
//   - session (session.go): one claude process's stream and control
//     protocol; process (process.go): the child itself, its group and its
//     tagged tree (runner/proctree).
//   - The conversation beyond tool calls: claude's control requests
//     (control.go) go to a tool's own exchange with the user (question.go,
//     plan.go), to the permission decision (permission.go), or to the
//     hooks of the review setting (review.go: edits held for review,
//     checkpoints, runner/edits and runner/checkpoint; attribution.go:
//     tasks running at once tell each other what they wrote); to-do lists
//     (todos.go); steering a running turn (steer.go); user messages and
//     images (message.go, image.go); slash commands (slash.go).
//
// Goroutines, who starts each and what ends it:
//   - Manager.Run runs Task.run on the caller's goroutine; it ends with the
//     outcome, after the process is parked or gone. Run's AfterFunc (cancel
//     on the caller's ctx) ends with Run.
//   - startSession starts readLoop (ends at EOF of claude's stdout, or when
//     watch closes it) and watch (ends once the process has exited, its
//     tree is killed and its output read, bounded by drainWait).
//   - startProcess starts the waiter (ends when claude has exited and every
//     process carrying its tag is killed; a claude that got SIGKILL and
//     was not reaped within reapWait is given up on (process.stuck): its
//     task and slot no longer wait, and the waiter ends whenever the
//     system lets it go, or with the bridge), the stderr copier (ends at EOF
//     of stderr) and the stdin writer (stdin.go: ends once stdin is closed
//     after what was queued is written, or at the first failed write; a
//     write that waits 30 s kills claude). Nothing that writes to claude
//     waits for it, so no lock is ever held across such a write.
//   - The read loop starts handleControl (control.go) per control request
//     from claude, can_use_tool and hook_callback alike (ends when the
//     question to the user is answered, the task's ctx ends, claude
//     withdraws the request, or the task ends: finish waits for every one,
//     endControls, so that what they report comes before the result) and
//     an authStep per HTTP 401 retry and per
//     first answer of the API after one (ends when the auth manager has answered, after
//     the step before it).
//   - The read loop starts one reader per file change claude reports
//     (readChanged: ends with the read, or after changeReadTime; a read
//     stuck in the kernel finishes on its own, and internal/fsbound keeps
//     the file from being read again until it has).
//   - Task.await starts one stopper per cancel or abort (ends once the
//     process has exited); Task.authLaunch one goroutine per launch (ends
//     when the auth manager answers).
//   - Task.beginCheckpoint warms a folder's snapshot once per folder and
//     bridge (checkpoint.Snapshots.Warm: one goroutine, ends with the
//     snapshot, bounded by checkpoint.WarmLimit).
//   - The pool runs a timer per idle process (ends when it fires or the
//     process is taken or evicted), a stopper per evicted process (ends
//     once the process is gone or given up on) and forgetUnreaped per
//     process given up on (ends once its waiter has reaped it).
//   - The warmer runs its loop (started by the first SetFolders; ends at
//     Shutdown) and a starter per warm claude being launched (ends once
//     claude answered initialize, failed, or the Manager shut down).
//   - proctree runs the orphan reaper and the spawner thread for the whole
//     process (they live as long as it).
package runner
