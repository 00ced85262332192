import Foundation
import KVLoad
import KVWorkload

/// A binding whose operations take `serviceTime` on the manual clock, except operation
/// `stallAt`, which takes `stall` (a server that stalls once).
struct StallingBinding: SyncBinding {
    let clock: ManualLoadClock
    let serviceTime: UInt64
    let stallAt: Int
    let stall: UInt64
    var nodeNames: [String] { ["double"] }

    func makeSession(worker: Int) throws -> any SyncSession {
        StallingSession(clock: clock, serviceTime: serviceTime, stallAt: stallAt, stall: stall)
    }
}

struct StallingSession: SyncSession {
    let clock: ManualLoadClock
    let serviceTime: UInt64
    let stallAt: Int
    let stall: UInt64
    var done = 0

    mutating func perform(_ request: OperationRequest) -> OperationOutcome {
        clock.advance(done == stallAt ? stall : serviceTime)
        done += 1
        return .ok
    }
}

/// A binding that records what it was asked to do, per worker.
final class RecordingBinding: SyncBinding, @unchecked Sendable {
    let lock = NSLock()
    var logs: [Int: [String]] = [:]
    var nodeNames: [String] { ["recording"] }

    func makeSession(worker: Int) throws -> any SyncSession { RecordingSession(owner: self, worker: worker) }

    func append(_ worker: Int, _ lines: [String]) {
        lock.lock()
        logs[worker, default: []] += lines
        lock.unlock()
    }
}

struct RecordingSession: SyncSession {
    let owner: RecordingBinding
    let worker: Int
    var lines: [String] = []

    mutating func perform(_ request: OperationRequest) -> OperationOutcome {
        let key = String(decoding: request.key, as: UTF8.self)
        lines.append("\(request.operation.kind.ycsbName) \(key) \(request.value.count) \(request.value.first ?? 0)")
        if lines.count % 100 == 0 {
            owner.append(worker, lines)
            lines.removeAll()
        }
        return .ok
    }
}

func spec(_ properties: [String: String]) throws -> WorkloadSpec {
    try WorkloadSpec(properties: WorkloadProperties(properties))
}
