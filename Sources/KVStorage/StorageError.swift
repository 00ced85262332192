#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the storage engine.
public struct StorageError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// A system call failed.
        case io(operation: String, errno: Int32, path: String)
        /// The log hit an earlier fatal error (the wrapped description says which); the engine refuses writes.
        case fatal(String)
        /// Key or value exceeds the configured limit.
        case tooLarge(what: String, size: Int, limit: Int)
        /// The engine was closed.
        case closed
        /// Data on disk is corrupt (strict recovery).
        case corrupt(segment: UInt32, offset: Int, reason: String)
        /// The configuration is unusable.
        case invalidConfiguration(String)
    }

    public var kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    static func io(_ operation: String, _ errno: Int32, _ path: String) -> StorageError {
        StorageError(.io(operation: operation, errno: errno, path: path))
    }

    public var description: String {
        switch kind {
        case let .io(op, err, path):
            return "I/O error: \(op)(\(path)) failed: \(String(cString: strerror(err))) (errno \(err))"
        case let .fatal(why):
            return "storage engine is failed: \(why)"
        case let .tooLarge(what, size, limit):
            return "\(what) too large: \(size) bytes (limit \(limit))"
        case .closed:
            return "storage engine is closed"
        case let .corrupt(segment, offset, reason):
            return "corrupt record in segment \(segment) at offset \(offset): \(reason)"
        case let .invalidConfiguration(why):
            return "invalid storage configuration: \(why)"
        }
    }
}
