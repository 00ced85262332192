import KVCluster
import KVClusterShell
import NIOCore
import RESP

/// A command whose reply comes from the cluster shell (another event loop, or later on this one):
/// either client requests the shell coordinates, with the way to write their answers as RESP, or an
/// operator view computed on the shell's loop. The connection keeps the reply's place in its pipeline.
public final class ClusterCall: Sendable, Equatable {
    /// Writes the answers (in request order) as the command's reply.
    public typealias Format = @Sendable ([ClusterAnswer], RESPVersion, inout ByteBuffer) -> Void
    /// Writes an operator view; runs on the shell's loop.
    public typealias Inspect = @Sendable (ClusterShell, RESPVersion, inout ByteBuffer) -> Void

    /// Runs on the caller's loop and must call `done` exactly once with the reply bytes.
    public typealias Custom = @Sendable (ClusterShell, EventLoop, ByteBufferAllocator, @escaping @Sendable (ByteBuffer) -> Void) -> Void

    enum Work: Sendable {
        case requests([ClientRequest], Format)
        case inspect(Inspect)
        case custom(Custom)
    }

    let work: Work

    init(requests: [ClientRequest], format: @escaping Format) { work = .requests(requests, format) }
    init(inspect: @escaping Inspect) { work = .inspect(inspect) }
    init(custom: @escaping Custom) { work = .custom(custom) }

    public static func == (a: ClusterCall, b: ClusterCall) -> Bool { a === b }

    /// Starts the work; `done` gets the reply bytes on `caller`.
    func start(shell: ClusterShell, caller: EventLoop, version: RESPVersion, allocator: ByteBufferAllocator,
               _ done: @escaping @Sendable (ByteBuffer) -> Void) {
        switch work {
        case let .requests(requests, format):
            shell.submit(requests, on: caller) { answers in
                var buffer = allocator.buffer(capacity: 64)
                format(answers, version, &buffer)
                done(buffer)
            }
        case let .custom(body):
            body(shell, caller, allocator, done)
        case let .inspect(body):
            shell.inspect(on: caller, { shell -> ByteBuffer in
                var buffer = allocator.buffer(capacity: 256)
                body(shell, version, &buffer)
                return buffer
            }, done)
        }
    }
}
