import Foundation
import KVStorage
import KVWorkload
import Logging

/// The `embedded` binding: a `KVStorage` engine in this process, called directly from the
/// worker threads (no network). Data lives in `directory` (a fresh temporary directory by
/// default, removed by `close()`).
public final class EmbeddedBinding: SyncBinding {
    public let engine: StorageEngine
    let data: DataDirectory
    public var directory: String { data.path }

    /// Opens (or creates) the store. `directory` nil = a new temporary directory.
    public init(directory: String? = nil, fsync: FsyncPolicy = .no) throws {
        data = DataDirectory(directory, temporaryPrefix: "kvbench-embedded")
        var configuration = StorageConfiguration(directory: data.path)
        configuration.fsync = fsync
        var logger = Logger(label: "kvbench.embedded")
        logger.logLevel = .warning
        engine = try StorageEngine(configuration: configuration, logger: logger)
    }

    public var nodeNames: [String] { ["embedded"] }

    public func makeSession(worker: Int) throws -> any SyncSession { EmbeddedSession(engine: engine) }

    /// Inserts the load phase's records without measuring (a `run` on a fresh in-process store).
    public func preload(spec: WorkloadSpec) throws {
        var stream = OperationStream(spec: spec, phase: .load)
        var values = RecordValues(spec: spec, pool: RecordValues.makePool(for: spec))
        defer { values.deallocate() }
        for _ in 0..<stream.operationLimit {
            _ = stream.next()
            let value = values.next(&stream)
            let failure = stream.withKey { key -> StorageError? in
                do {
                    _ = try engine.set(key: key, value: value)
                    return nil
                } catch {
                    return error as? StorageError
                }
            }
            if let failure { throw failure }
        }
    }

    public func close() throws {
        try engine.close()
        data.removeIfTemporary()
    }
}

/// A worker's session on the embedded engine.
struct EmbeddedSession: SyncSession {
    let engine: StorageEngine
    var keyScratch = [UInt8](repeating: 0, count: 256)

    mutating func perform(_ request: OperationRequest) -> OperationOutcome {
        let op = request.operation
        do {
            switch op.kind {
            case .read:
                return engine.withValue(forKey: request.key) { $0 == nil ? .notFound : .ok }
            case .update, .insert:
                _ = try engine.set(key: request.key, value: request.value)
                return .ok
            case .readModifyWrite:
                let found = engine.withValue(forKey: request.key) { $0 != nil }
                _ = try engine.set(key: request.key, value: request.value)
                return found ? .ok : .notFound
            case .delete:
                return try engine.delete(key: request.key).applied ? .ok : .notFound
            case .scan:
                var found = 0
                let namer = request.keyNamer
                if keyScratch.count < namer.maximumLength { keyScratch = [UInt8](repeating: 0, count: namer.maximumLength) }
                for i in 0..<Int64(op.scanLength) {
                    found += keyScratch.withUnsafeMutableBytes { buffer in
                        let n = namer.write(keyNumber: op.keyNumber + i, into: buffer)
                        return engine.withValue(forKey: UnsafeRawBufferPointer(rebasing: buffer[0..<n])) { $0 == nil ? 0 : 1 }
                    }
                }
                return found > 0 ? .ok : .notFound
            }
        } catch {
            return .error
        }
    }
}
