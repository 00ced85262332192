import CJemallocShim

/// What the process allocator is and how much it holds: jemalloc when it is linked (checked at run
/// time, not assumed), with its own statistics; otherwise glibc's malloc and the resident set size.
public struct AllocatorInfo: Sendable {
    public var name: String
    public var version: String
    public var isProcessAllocator: Bool
    public var allocated: Int
    public var active: Int
    public var resident: Int
    public var mapped: Int
    public var metadata: Int
    public var retained: Int

    public static func read() -> AllocatorInfo {
        var buf = [CChar](repeating: 0, count: 128)
        let hasVersion = kv_jemalloc_version(&buf, buf.count) != 0
        let version = hasVersion
            ? String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : ""
        let stats = kv_jemalloc_read_stats()
        let isJemalloc = kv_jemalloc_is_process_allocator() != 0
        return AllocatorInfo(
            name: isJemalloc ? "jemalloc-\(version.split(separator: "-").first ?? "")" : "libc",
            version: version,
            isProcessAllocator: isJemalloc,
            allocated: stats.allocated, active: stats.active, resident: stats.resident,
            mapped: stats.mapped, metadata: stats.metadata, retained: stats.retained
        )
    }

    /// Resident set size of this process in bytes, from procfs.
    public static func residentSetSize() -> Int {
        guard let text = try? readSmallFile("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Peak resident set size (VmHWM) in bytes.
    public static func peakResidentSetSize() -> Int {
        guard let text = try? readSmallFile("/proc/self/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Reads a small text file (procfs) without Foundation.
func readSmallFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw AllocatorReadError() }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

struct AllocatorReadError: Error {}
