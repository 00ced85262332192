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
func spawnDetachedThread(_ body: @escaping @Sendable () -> Void) {
    let context = Unmanaged.passRetained(ThreadBody(run: body)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { arg in
        let body = Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
        body.run()
        return nil
    }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(tid)
}
