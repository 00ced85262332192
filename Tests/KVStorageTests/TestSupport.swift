import Foundation
import Synchronization
import Testing
@testable import KVStorage

/// Bytes of a string.
func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Runs `body` with a fresh temporary directory and removes it afterwards.
func withTempDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = NSTemporaryDirectory() + "kvstorage-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64 = 1_000_000) { value = Mutex(start) }
    var now: Int64 { value.withLock { $0 } }
    func advance(_ ms: Int64) { value.withLock { $0 += ms } }
}

func config(_ dir: String, fsync: FsyncPolicy = .no, clock: ManualClock? = nil, segmentSize: Int? = nil) -> StorageConfiguration {
    var c = StorageConfiguration(directory: dir)
    c.fsync = fsync
    c.shardCount = 4
    if let clock { c.clock = { clock.now } }
    if let segmentSize { c.segmentSizeLimit = segmentSize }
    c.mergeMinDeadBytes = Int.max  // no background merges unless a test asks
    return c
}

/// Names of the data files in a directory, sorted.
func dataFiles(_ dir: String, ext: String = "log") throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix("." + ext) }.sorted()
}

func fileBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
func writeFileBytes(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

/// Every key and value of an engine, read through the public API for the given keys.
func snapshot(_ engine: StorageEngine, keys: [[UInt8]]) -> [[UInt8]: [UInt8]] {
    var out: [[UInt8]: [UInt8]] = [:]
    for k in keys { if let v = engine.get(k) { out[k] = v } }
    return out
}

/// Real I/O with switchable failures and counters.
final class FaultyIO: FileIO, Sendable {
    struct State {
        var failSync = false
        var failWrite = false
        /// A full disk: writes succeed until this many more bytes are written, then one writes what fits
        /// (a short write) and fails with ENOSPC, as do all later ones.
        var bytesUntilFull: Int?
        var syncs = 0
        var writes = 0
    }
    let state = Mutex(State())
    let real = PosixFileIO()

    func open(_ path: String, flags: Int32) throws(StorageError) -> Int32 { try real.open(path, flags: flags) }
    func close(_ fd: Int32) { real.close(fd) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageError) {
        let (fail, room) = state.withLock { s -> (Bool, Int?) in
            s.writes += 1
            let room = s.bytesUntilFull
            if let left = s.bytesUntilFull { s.bytesUntilFull = max(0, left - bytes.count) }
            return (s.failWrite, room)
        }
        if fail { throw .io("write", EIO, path) }
        if let room, room < bytes.count {
            if room > 0 { try real.write(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<room]), path: path) }
            throw .io("write", ENOSPC, path)
        }
        try real.write(fd, bytes, path: path)
    }
    func fdatasync(_ fd: Int32, path: String) throws(StorageError) {
        if state.withLock({ $0.failSync }) { throw .io("fdatasync", EIO, path) }
        try real.fdatasync(fd, path: path)
        state.withLock { $0.syncs += 1 }
    }
    func truncate(_ fd: Int32, length: Int, path: String) throws(StorageError) { try real.truncate(fd, length: length, path: path) }
    func readAll(_ path: String) throws(StorageError) -> [UInt8] { try real.readAll(path) }
    func rename(_ from: String, _ to: String) throws(StorageError) { try real.rename(from, to) }
    func unlink(_ path: String) throws(StorageError) { try real.unlink(path) }
    func syncDirectory(_ path: String) throws(StorageError) { try real.syncDirectory(path) }
}

/// A thread-safe counter shared by reference (closures capture the object, never a copy).
final class Counter: Sendable {
    private let value = Mutex(0)
    func add(_ n: Int = 1) { value.withLock { $0 += n } }
    var count: Int { value.withLock { $0 } }
}
