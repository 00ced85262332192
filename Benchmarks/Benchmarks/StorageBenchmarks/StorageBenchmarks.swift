import Benchmark
import Foundation
import KVStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// Storage engine micro-benchmarks. Keys are 16 bytes, values 100 bytes, fsync policy `.no`
// (the log writer still runs; nothing waits for the disk).
//   cd Benchmarks && swift package benchmark --target StorageBenchmarks --no-progress

private func key16(_ i: Int) -> [UInt8] {
    var k = Array("key-".utf8)
    let digits = String(i)
    k += Array(repeating: UInt8(ascii: "0"), count: 12 - digits.count) + Array(digits.utf8)
    return k
}

private let value100 = [UInt8](repeating: 0x61, count: 100)

private func makeDirectory() -> String {
    var template = Array((NSTemporaryDirectory() + "kvstorage-bench-XXXXXX").utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return path
}

private func removeDirectory(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

/// Engines to close and directories to delete when a benchmark's teardown runs.
private let cleanups = Mutex<[@Sendable () -> Void]>([])
private func onTeardown(_ body: @escaping @Sendable () -> Void) { cleanups.withLock { $0.append(body) } }
private func runTeardown() async throws {
    for body in cleanups.withLock({ c in defer { c = [] }; return c }) { body() }
}

private func configuration(_ dir: String) -> StorageConfiguration {
    var c = StorageConfiguration(directory: dir)
    c.fsync = .no
    c.mergeMinDeadBytes = Int.max
    return c
}

/// Fills a directory with `count` keys; with `merged`, runs a merge so recovery can use hint files.
private func prepareDirectory(count: Int, merged: Bool) throws -> String {
    let dir = makeDirectory()
    let e = try StorageEngine(configuration: configuration(dir))
    for i in 0..<count { _ = try e.set(key16(i), value100) }
    try e.close()
    if merged {
        let again = try StorageEngine(configuration: configuration(dir))
        _ = try again.mergeNow()
        try again.close()
    }
    onTeardown { removeDirectory(dir) }
    return dir
}

/// Bytes the process holds from glibc malloc (all arenas, including mmapped chunks):
/// `mallinfo2().uordblks + hblkhd`. Swift's Glibc module does not import <malloc.h>, so the
/// function is looked up with dlsym and called with its x86-64 SysV ABI: the 80-byte struct
/// (10 size_t fields) is returned through a hidden pointer argument. Other targets report -1.
private func mallocAllocatedBytes() -> Int {
    #if arch(x86_64) && os(Linux)
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallinfo2") else { return -1 }
    typealias MallInfo2 = @convention(c) (UnsafeMutablePointer<Int>) -> UnsafeMutableRawPointer?
    let call = unsafeBitCast(symbol, to: MallInfo2.self)
    let fields = UnsafeMutablePointer<Int>.allocate(capacity: 10)
    defer { fields.deallocate() }
    fields.initialize(repeating: 0, count: 10)
    _ = call(fields)
    return fields[7] + fields[4]  // uordblks + hblkhd
    #else
    return -1
    #endif
}

final class EngineBox: @unchecked Sendable {
    let dir: String
    let engine: StorageEngine
    let keys: [[UInt8]]
    init(preload: Int) throws {
        dir = makeDirectory()
        engine = try StorageEngine(configuration: configuration(dir))
        keys = (0..<100_000).map(key16)
        for i in 0..<preload { _ = try engine.set(keys[i], value100) }
        onTeardown { [engine, dir] in
            try? engine.close()
            removeDirectory(dir)
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    let micro = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 200)

    Benchmark("Storage.set 100B", configuration: micro) { benchmark, box in
        let keys = box.keys
        var n = 0
        for _ in benchmark.scaledIterations {
            let k = keys[n % keys.count]
            n &+= 1
            let outcome = k.withUnsafeBytes { kp in
                value100.withUnsafeBytes { vp in try! box.engine.set(key: kp, value: vp) }
            }
            blackHole(outcome.applied)
        }
    } setup: {
        try EngineBox(preload: 0)
    } teardown: {
        try await runTeardown()
    }

    Benchmark("Storage.get 100B", configuration: micro) { benchmark, box in
        let keys = box.keys
        var n = 0
        for _ in benchmark.scaledIterations {
            let k = keys[n % keys.count]
            n &+= 1
            let size = k.withUnsafeBytes { kp in box.engine.withValue(forKey: kp) { $0?.count ?? -1 } }
            blackHole(size)
        }
    } setup: {
        try EngineBox(preload: 100_000)
    } teardown: {
        try await runTeardown()
    }

    let recovery = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 5)
    for merged in [false, true] {
        let name = merged ? "Storage.recovery 100k keys (hints after merge)" : "Storage.recovery 100k keys (scan)"
        Benchmark(name, configuration: recovery) { benchmark, dir in
            for _ in benchmark.scaledIterations {
                let e = try! StorageEngine(configuration: configuration(dir))
                blackHole(e.count)
                try! e.close()
            }
        } setup: {
            try prepareDirectory(count: 100_000, merged: merged)
        } teardown: {
        try await runTeardown()
    }
    }

    // Memory per key: glibc mallinfo2 (uordblks + hblkhd) before/after loading 1M keys of 16 B
    // with 100 B values. Reported as custom metrics (bytes per key).
    let memory = Benchmark.Configuration(
        metrics: [.wallClock, .custom("allocatedBytesPerKey", useScalingFactor: false),
                  .custom("indexOverheadBytesPerKey", useScalingFactor: false)],
        scalingFactor: .one, maxDuration: .seconds(30), maxIterations: 1)
    Benchmark("Storage.memory 1M keys 16B/100B", configuration: memory) { benchmark in
        let keys = (0..<1_000_000).map(key16)
        let dir = makeDirectory()
        defer { removeDirectory(dir) }
        let before = mallocAllocatedBytes()
        let e = try! StorageEngine(configuration: configuration(dir))
        for k in keys { _ = try! e.set(k, value100) }
        try! e.close()  // drains the log so its buffers are back to their resting size
        let after = mallocAllocatedBytes()
        let stats = e.stats()
        benchmark.measurement(.custom("allocatedBytesPerKey", useScalingFactor: false), (after - before) / keys.count)
        benchmark.measurement(.custom("indexOverheadBytesPerKey", useScalingFactor: false), stats.indexBytes / keys.count)
        print("memory: \(after - before) bytes allocated for \(keys.count) keys = \(Double(after - before) / Double(keys.count)) B/key; indexBytes estimate \(stats.indexBytes) (\(stats.indexBytes / keys.count) B/key overhead)")
        blackHole(e)
    }
}
