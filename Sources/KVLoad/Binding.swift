import KVWorkload

/// The bindings `kvbench` can drive.
public enum BindingKind: String, Sendable, CaseIterable {
    /// In process (the default): a whole cluster of shells (`KVEmbeddedCluster`), or with one node the
    /// `KVStorage` engine called directly from the worker threads (`EmbeddedBinding`).
    case embedded
    /// A `kvnode` over RESP; against a cluster, each operation goes to a replica of its key.
    case kvnode
    /// Any RESP server (Redis itself, for side-by-side runs).
    case redis
    /// Does nothing: measures the generator's and recorder's own cost.
    case null
}

/// One operation as a binding sees it: the operation, its key bytes and, for writes, the
/// record bytes (YCSB's fields concatenated into one value; see `RecordValues`).
public struct OperationRequest {
    public var operation: Operation
    public var key: UnsafeRawBufferPointer
    public var value: UnsafeRawBufferPointer
    /// Names keys of other keynums (scans read `scanLength` consecutive keynums).
    public var keyNamer: KeyNamer
}

/// A per-thread session of an in-process binding: operations complete synchronously.
public protocol SyncSession {
    mutating func perform(_ request: OperationRequest) -> OperationOutcome
    /// Index (in the binding's `nodeNames`) of the node that served the last operation.
    var lastNode: Int { get }
}

extension SyncSession {
    /// One node: every operation is served by node 0.
    public var lastNode: Int { 0 }
}

/// An in-process binding (`null`, `embedded`, test doubles): one session per worker thread.
public protocol SyncBinding: Sendable {
    /// Node names for `nodes.csv` (one for in-process bindings).
    var nodeNames: [String] { get }
    func makeSession(worker: Int) throws -> any SyncSession
}

/// The `null` binding: every operation succeeds at once, so a run measures kvbench itself.
public struct NullBinding: SyncBinding {
    public init() {}
    public var nodeNames: [String] { ["null"] }
    public func makeSession(worker: Int) throws -> any SyncSession { NullSession() }
}

/// Session of `NullBinding`.
public struct NullSession: SyncSession {
    public private(set) var bytesSeen = 0
    public init() {}

    @inline(__always)
    public mutating func perform(_ request: OperationRequest) -> OperationOutcome {
        bytesSeen &+= request.key.count &+ request.value.count
        return .ok
    }
}

/// How a YCSB record becomes one value: its `fieldcount` fields concatenated (no names, no
/// separators), so the value is `fieldcount × fieldlength` bytes for constant lengths (the sum
/// of `fieldcount` drawn lengths otherwise). Inserts and updates both write a whole record
/// (stores here have no per-field structure); reads and scans read whole records. Bytes are a
/// slice of a shared random pool (`valuemode=pool`) or freshly generated (`valuemode=ycsb`).
public struct RecordValues {
    public let pool: ValuePool
    let constantLength: Int?
    let fieldCount: Int
    let ycsbMode: Bool
    var scratch: UnsafeMutableRawBufferPointer

    public init(spec: WorkloadSpec, pool: ValuePool) {
        self.pool = pool
        fieldCount = spec.fieldCount
        constantLength = spec.fieldLengthDistribution == .constant ? spec.fieldCount * spec.fieldLength : nil
        ycsbMode = spec.valueMode == .ycsb
        scratch = .allocate(byteCount: max(spec.fieldCount * spec.fieldLength, 1), alignment: 16)
    }

    /// A pool large enough for whole records of `spec`.
    public static func makePool(for spec: WorkloadSpec) -> ValuePool {
        ValuePool(maxValueLength: spec.fieldCount * spec.fieldLength, seed: spec.seed)
    }

    /// Frees the scratch buffer (call once, when the worker ends).
    public func deallocate() { scratch.deallocate() }

    /// The next record value (valid until the next call).
    @inline(__always)
    public mutating func next(_ stream: inout OperationStream) -> UnsafeRawBufferPointer {
        var length = constantLength ?? 0
        if constantLength == nil { for _ in 0..<fieldCount { length += stream.nextValueLength() } }
        if ycsbMode {
            let target = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<length])
            stream.fillValue(target)
            return UnsafeRawBufferPointer(target)
        }
        if constantLength != nil { return pool.bytes(FieldValue(offset: stream.nextPooledOffset(), length: length)) }
        let slice = stream.nextPooledValue()
        return pool.bytes(FieldValue(offset: slice.offset, length: length))
    }
}

extension OperationKind {
    /// True when the operation writes a record.
    @inlinable
    @inline(__always)
    public var writes: Bool { self == .insert || self == .update || self == .readModifyWrite }
}
