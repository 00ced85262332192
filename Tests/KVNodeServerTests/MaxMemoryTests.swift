import KVNodeServer
import Synchronization
import Testing

@Suite struct MemorySizeTests {
    @Test func parsesRedisStyleSizes() {
        #expect(MemorySize.parse("100mb") == 100 << 20)
        #expect(MemorySize.parse("2gb") == 2 << 30)
        #expect(MemorySize.parse("512kb") == 512 << 10)
        #expect(MemorySize.parse("2GB") == 2 << 30)
        #expect(MemorySize.parse("1k") == 1000)
        #expect(MemorySize.parse("3m") == 3_000_000)
        #expect(MemorySize.parse("12345") == 12345)
        #expect(MemorySize.parse("0") == 0)
    }

    @Test func rejectsWhatIsNotASize() {
        for bad in ["", "mb", "-1", "-1mb", "10xb", "1.5gb", " 10mb", "10 mb", "99999999999999gb", "+5"] {
            #expect(MemorySize.parse(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct MemoryLimitTests {
    /// A limit over a figure and clock the test controls; counts how often the figure is read.
    final class Probe: Sendable {
        let bytes = Atomic<Int>(0)
        let time = Atomic<UInt64>(1)
        let reads = Atomic<Int>(0)

        func limit(_ max: Int?) -> MemoryLimit {
            MemoryLimit(maxBytes: max, refreshNanos: 1000, now: { self.time.load(ordering: .relaxed) }) {
                self.reads.add(1, ordering: .relaxed)
                return self.bytes.load(ordering: .relaxed)
            }
        }
    }

    @Test func refusesAtOrAboveTheLimitAndCachesTheFigure() {
        let probe = Probe()
        let limit = probe.limit(100)
        probe.bytes.store(99, ordering: .relaxed)
        #expect(!limit.refusesWrites())
        probe.bytes.store(100, ordering: .relaxed)
        #expect(!limit.refusesWrites(), "still the cached 99 within the refresh interval")
        #expect(probe.reads.load(ordering: .relaxed) == 1)
        probe.time.store(1001, ordering: .relaxed)
        #expect(limit.refusesWrites(), "at the limit counts as full")
        probe.bytes.store(10, ordering: .relaxed)
        #expect(limit.refusesWrites(), "cached")
        limit.invalidate()
        #expect(!limit.refusesWrites(), "invalidate re-reads at once")
        #expect(probe.reads.load(ordering: .relaxed) == 3)
    }

    @Test func noLimitNeverMeasures() {
        let probe = Probe()
        let limit = probe.limit(nil)
        probe.bytes.store(.max, ordering: .relaxed)
        #expect(!limit.refusesWrites())
        limit.invalidate()
        #expect(!limit.refusesWrites())
        #expect(probe.reads.load(ordering: .relaxed) == 0)
    }
}

@Suite(.serialized) struct MaxMemoryServerTests {
    static let oom = "OOM command not allowed when used memory > 'maxmemory'."

    @Test func writesAreRefusedWhenFullWhileReadsAndDeletesWork() async throws {
        let max = 256 << 10
        let (server, port, dir) = try await startNode { $0.maxMemoryBytes = max }
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        let value = String(repeating: "v", count: 1024)

        // Fill until the node refuses (the figure is cached for a couple of ms, so allow overshoot).
        var stored = 0
        var refusal: String?
        while stored < 2000 {
            let reply = try c.command("SET", "key\(stored)", value)
            if reply.text != "OK" {
                refusal = reply.text
                break
            }
            stored += 1
        }
        #expect(refusal == Self.oom)
        #expect(stored > 100, "a 256 KiB limit holds well over 100 one-KiB values")
        let info = try c.command("INFO", "memory").text ?? ""
        #expect(info.contains("maxmemory:\(max)\r\n"))
        let used = info.split(separator: "\r\n").first { $0.hasPrefix("used_memory_dataset:") }.flatMap { Int($0.dropFirst(20)) }
        #expect((used ?? 0) >= max)

        // Every command that adds data is refused; reads and deletes work.
        #expect(try c.command("SETNX", "fresh", "v").text == Self.oom)
        #expect(try c.command("SETEX", "fresh", "10", "v").text == Self.oom)
        #expect(try c.command("MSET", "fresh", "v", "other", "w").text == Self.oom)
        #expect(try c.command("GET", "key0").text == value)
        #expect(try c.command("EXISTS", "fresh").integer == 0)
        #expect(try c.command("DBSIZE").integer == Int64(stored))
        let config = try c.command("CONFIG", "GET", "maxmemory")
        guard case .array(let items?) = config else { Issue.record("\(config)"); return }
        #expect(items.map(\.text) == ["maxmemory", String(max)])

        // Deleting frees space, and writes are accepted again straight away.
        for i in 0..<stored / 2 { #expect(try c.command("DEL", "key\(i)").integer == 1) }
        #expect(try c.command("SET", "fresh", "v").text == "OK")
        #expect(try c.command("GET", "fresh").text == "v")
        try await server.stop()
    }

    @Test func withoutALimitNothingIsRefused() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        #expect(try c.command("SET", "k", "v").text == "OK")
        let info = try c.command("INFO", "memory").text ?? ""
        #expect(info.contains("maxmemory:0\r\n"))
        #expect(info.contains("maxmemory_policy:noeviction\r\n"))
        try await server.stop()
    }
}
