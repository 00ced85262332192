import Foundation
import Glibc
import Synchronization
import Testing

/// Real `kvnode` processes killed with SIGKILL during a write load: with `--fsync always` every write
/// the node acknowledged must be there after a restart.
@Suite(.serialized) struct CrashRecoveryTests {
    /// The kvnode binary built next to this test bundle (swift build builds it with the tests).
    static func kvnodePath() throws -> String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("kvnode").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw Failure("kvnode binary not found next to \(exe.path); run `swift build` first")
    }

    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func launch(dataDir: String, port: Int, fsync: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try kvnodePath())
        p.arguments = ["--port", "\(port)", "--data-dir", dataDir, "--fsync", fsync, "--log-level", "warning"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        for _ in 0..<200 {
            if let c = try? BlockingClient(port: port), (try? c.command("PING").text) == "PONG" { return p }
            usleep(50_000)
        }
        p.terminate()
        throw Failure("kvnode did not start on port \(port)")
    }

    final class LoadState: Sendable {
        let acknowledged = Mutex<[String: String]>([:])
        let stop = Atomic<Bool>(false)
    }

    @Test func acknowledgedWritesSurviveKill9() async throws {
        let dir = TempDir("kvnode-crash")
        defer { dir.remove() }
        for round in 0..<3 {
            let port = Self.freePort()
            let node = try Self.launch(dataDir: dir.path, port: port, fsync: "always")
            let shared = LoadState()
            let writers = (0..<8).map { w in
                Thread {
                    guard let c = try? BlockingClient(port: port, timeoutSeconds: 5) else { return }
                    var i = 0
                    while !shared.stop.load(ordering: .relaxed) {
                        let key = "r\(round)-w\(w)-\(i)", value = "value-\(round)-\(w)-\(i)"
                        guard let reply = try? c.command("SET", key, value) else { return }
                        if reply.text == "OK" { shared.acknowledged.withLock { $0[key] = value } }
                        i += 1
                    }
                }
            }
            writers.forEach { $0.start() }
            // Let the load run, then kill the node mid-stream.
            try await Task.sleep(for: .milliseconds(700 + 300 * round))
            kill(node.processIdentifier, SIGKILL)
            node.waitUntilExit()
            shared.stop.store(true, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(200))

            let acked = shared.acknowledged.withLock { $0 }
            #expect(acked.count > 50, "the load should have acknowledged writes before the kill")
            let restarted = try Self.launch(dataDir: dir.path, port: Self.freePort(), fsync: "always")
            defer { restarted.terminate(); restarted.waitUntilExit() }
            let reader = try BlockingClient(port: Int(restarted.arguments![1])!)
            var missing = 0
            for (key, value) in acked where (try? reader.command("GET", key).text) != value {
                missing += 1
            }
            #expect(missing == 0, "round \(round): \(missing) of \(acked.count) acknowledged writes lost")
        }
    }
}
