#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private final class ThreadBody {
    let run: @Sendable () -> Void
    init(run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}

/// Starts a detached pthread (no Foundation, no event loop). Used for the log writer and merges.
/// `niceness` > 0 lowers the thread's scheduling priority (Linux: per thread), so background work
/// such as merging yields the CPU to the event loops serving clients.
func spawnDetachedThread(niceness: Int32 = 0, _ body: @escaping @Sendable () -> Void) {
    let run: @Sendable () -> Void = {
        if niceness != 0 { lowerCurrentThreadPriority(niceness) }
        body()
    }
    let context = Unmanaged.passRetained(ThreadBody(run: run)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { arg in
        let body = Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
        body.run()
        return nil
    }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(tid)
}

/// Raises the calling thread's nice value (Linux keeps it per thread; `who == 0` is the caller).
private func lowerCurrentThreadPriority(_ niceness: Int32) {
    #if os(Linux)
    let which = __priority_which_t(PRIO_PROCESS.rawValue)
    _ = setpriority(which, 0, niceness)
    #endif
}
