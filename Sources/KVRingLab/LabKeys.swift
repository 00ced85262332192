import Dispatch
import KVHash

/// The lab's keyspace: keys `user0`, `user1`, ... (YCSB-style names), hashed once with XXH3-64.
public struct LabKeys: Sendable {
    /// XXH3-64 of each key's UTF-8 bytes.
    public let hashes: [UInt64]

    /// Key prefix.
    public static let prefix: [UInt8] = Array("user".utf8)

    public init(count: Int, threads: Int = 2) {
        precondition(count > 0)
        var hashes = [UInt64](repeating: 0, count: count)
        hashes.withUnsafeMutableBufferPointer { out in
            let box = UnsafeSendable(out)
            parallelChunks(count: count, threads: threads) { range in
                for i in range { box.value[i] = Self.hash(ofKey: i) }
            }
        }
        self.hashes = hashes
    }

    /// Number of keys.
    public var count: Int { hashes.count }

    /// Length in bytes of key i (`user` + decimal digits).
    @inlinable
    public static func keyLength(_ i: Int) -> Int {
        var digits = 1
        var v = i
        while v >= 10 {
            v /= 10
            digits += 1
        }
        return prefix.count + digits
    }

    /// XXH3 of key i's bytes, built on the stack (no String work).
    public static func hash(ofKey i: Int) -> UInt64 {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            var n = 0
            for b in prefix {
                buffer[n] = b
                n += 1
            }
            let length = keyLength(i)
            var v = i
            var pos = length - 1
            repeat {
                buffer[pos] = UInt8(48 + v % 10)
                v /= 10
                pos -= 1
            } while pos >= n
            return XXH3.hash(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[0..<length]))
        }
    }

    /// Key i as a string (for display and tests).
    public static func key(_ i: Int) -> String {
        "user" + String(i)
    }
}

/// Wraps a non-Sendable value (a buffer pointer) whose users partition the work so no two threads
/// touch the same element.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Runs `body` over `threads` contiguous chunks of `0..<count` in parallel; returns the chunk results
/// in chunk order (so merged results do not depend on scheduling).
@discardableResult
func parallelChunks<T>(count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> T) -> [T] {
    let chunks = max(1, min(threads, count))
    let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: chunks)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    let box = UnsafeSendable(results)
    let chunkSize = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lower = c * chunkSize
        let upper = min(count, lower + chunkSize)
        box.value[c] = body(lower..<max(lower, upper))
    }
    return results.map { $0! }
}
