import Foundation
import KVLoad
import NIOCore
import NIOPosix
import RESP

/// The scenario's durability check: next to the workload it writes keys of its own, each once with a
/// unique value, round robin over the running nodes, and remembers which were acknowledged. After
/// the run (once rebalancing is over) it reads every acknowledged key back through the cluster: an
/// acknowledged write that is missing or different is lost.
public final class WriteTracker: @unchecked Sendable {
    public struct Report: Sendable, Equatable {
        public var attempted = 0
        public var acknowledged = 0
        public var lost = 0
        /// Keys that could not be read back at all (every node refused or timed out).
        public var unreadable = 0
        public var lostKeys: [String] = []
    }

    private let cluster: LocalCluster
    private let rate: Double
    private let prefix: String
    private let lock = NSLock()
    private var acked: [(String, String)] = []
    private var attempted = 0
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// `rate` writes per second (a light load next to the workload).
    public init(cluster: LocalCluster, rate: Double = 200) {
        self.cluster = cluster
        self.rate = rate
        prefix = "kvbench-check:\(UInt32.random(in: 0...UInt32.max)):"
    }

    deinit { try? group.syncShutdownGracefully() }

    public func start() {
        Thread { [self] in
            var clients: [Int: BlockingRESPClient] = [:]
            var i = 0
            let start = Date()
            while !lock.withLock({ stopped }) {
                let targets = cluster.liveEndpoints
                if !targets.isEmpty {
                    let address = targets[i % targets.count]
                    let key = prefix + String(i), value = "v\(i)-\(UInt64.random(in: 0...UInt64.max))"
                    var ok = false
                    if let client = client(address, &clients), let reply = try? client.call(["SET", key, value]),
                       case .simpleString = reply {
                        ok = true
                    }
                    lock.withLock {
                        attempted += 1
                        if ok { acked.append((key, value)) }
                    }
                    i += 1
                }
                let next = start.addingTimeInterval(Double(i) / rate).timeIntervalSinceNow
                if next > 0 { usleep(UInt32(min(next, 0.5) * 1e6)) } else if targets.isEmpty { usleep(100_000) }
            }
            for c in clients.values { c.close() }
            done.signal()
        }.start()
    }

    /// A connection to `endpoint` with a 2 s timeout, kept by port in `cache`; nil when it cannot connect.
    private func client(_ endpoint: (host: String, port: Int), _ cache: inout [Int: BlockingRESPClient]) -> BlockingRESPClient? {
        if let c = cache[endpoint.port], c.isActive { return c }
        guard let c = try? BlockingRESPClient.connect(host: endpoint.host, port: endpoint.port, group: group, timeout: .seconds(2)) else {
            cache[endpoint.port] = nil
            return nil
        }
        cache[endpoint.port] = c
        return c
    }

    /// Stops writing.
    public func stop() {
        lock.withLock { stopped = true }
        done.wait()
    }

    /// Reads every acknowledged key back (each from the next running node, trying the others when
    /// one fails) and counts what is missing or different.
    public func verify() -> Report {
        let (keys, tried) = lock.withLock { (acked, attempted) }
        var report = Report(attempted: tried, acknowledged: keys.count)
        var clients: [Int: BlockingRESPClient] = [:]
        defer { for c in clients.values { c.close() } }
        for (n, (key, value)) in keys.enumerated() {
            let targets = cluster.liveEndpoints
            var answer: RESPValue?
            for k in 0..<targets.count {
                guard let c = client(targets[(n + k) % targets.count], &clients), let reply = try? c.call(["GET", key]) else { continue }
                if case .error = reply { continue }
                answer = reply
                break
            }
            guard let answer else {
                report.unreadable += 1
                continue
            }
            if case .bulkString(let b?) = answer, String(buffer: b) == value { continue }
            report.lost += 1
            if report.lostKeys.count < 20 { report.lostKeys.append(key) }
        }
        return report
    }
}
