/// The kinds of operation a workload issues (chooser order: read, update, insert, scan, RMW, delete).
public enum OperationKind: UInt8, Sendable, CaseIterable {
    case read, update, insert, scan, readModifyWrite, delete

    /// YCSB's report name (`READ`, `READ-MODIFY-WRITE`, …).
    public var ycsbName: String {
        switch self {
        case .read: return "READ"
        case .update: return "UPDATE"
        case .insert: return "INSERT"
        case .scan: return "SCAN"
        case .readModifyWrite: return "READ-MODIFY-WRITE"
        case .delete: return "DELETE"
        }
    }
}

/// One operation to issue. The key's bytes are in the stream's key buffer (`withKey`).
public struct Operation: Sendable, Equatable {
    /// Sentinel for `readField` / `writeField`: every field.
    public static let allFields = -1

    public var kind: OperationKind
    public var keyNumber: Int64
    public var keyLength: Int
    /// Records to scan (scan only, else 0).
    public var scanLength: Int
    /// Field index to read, or `allFields` (read, scan, RMW).
    public var readField: Int
    /// Field index to write, or `allFields` (update, insert, RMW; insert always writes all).
    public var writeField: Int

    public init(kind: OperationKind, keyNumber: Int64, keyLength: Int, scanLength: Int = 0,
                readField: Int = Operation.allFields, writeField: Int = Operation.allFields) {
        self.kind = kind
        self.keyNumber = keyNumber
        self.keyLength = keyLength
        self.scanLength = scanLength
        self.readField = readField
        self.writeField = writeField
    }
}

/// Which YCSB phase a stream generates.
public enum WorkloadPhase: Sendable {
    /// `kvbench load`: inserts of keynums insertstart…insertstart+insertcount−1.
    case load
    /// `kvbench run`: the operation mix.
    case run
}

/// The deterministic operation source for one thread: same spec, seed, phase and thread index
/// → the same operations, op for op. Allocation-free per operation (key written into an owned
/// buffer, values are pool slices). Threads get independent random streams derived from the
/// seed and, for new inserts, disjoint keynums: thread t of T inserts recordcount + t + k·T in
/// the run phase (insertstart + t + k·T in the load phase). A thread's reads only target
/// records loaded before the run or inserted *and acknowledged* by that thread (YCSB's
/// acknowledged-counter rule, per thread and lock-free); with one thread this is exactly YCSB.
public struct OperationStream: Sendable {
    public let spec: WorkloadSpec
    public let phase: WorkloadPhase
    public let threadIndex: Int
    public let threadCount: Int
    /// How many operations this thread should issue (0 = unlimited: run until time is up).
    public let operationLimit: Int64
    public let keyNamer: KeyNamer

    @usableFromInline var keyBuffer: [UInt8]
    @usableFromInline var keyLength = 0
    let prefixLength: Int
    let hashedKeys: Bool
    let zeroPadding: Int
    var chooser: DiscreteChooser
    var keys: KeyChooser
    var inserts: AcknowledgedCounter
    var loadCounter: Int64
    var scanUniform: UniformGenerator
    var scanZipf: ZipfianGenerator
    var scanGray: GrayZipfianGenerator?
    var fieldChooser: UniformGenerator
    var fieldLengths: FieldLengthGenerator
    @usableFromInline var valueRandom: WorkloadRandom
    var ycsbValues: YCSBValueGenerator
    @usableFromInline let valuePoolStartRange: Int

    public init(spec: WorkloadSpec, phase: WorkloadPhase, threadIndex: Int = 0, threadCount: Int = 1,
                valuePoolStartRange: Int = ValuePool.defaultStartRange) {
        precondition(threadCount >= 1 && (0..<threadCount).contains(threadIndex), "bad thread index")
        self.spec = spec
        self.phase = phase
        self.threadIndex = threadIndex
        self.threadCount = threadCount
        keyNamer = spec.keyNamer
        keyBuffer = keyNamer.prefix + [UInt8](repeating: 0, count: keyNamer.maximumLength - keyNamer.prefix.count)
        prefixLength = keyNamer.prefix.count
        hashedKeys = keyNamer.hashed
        zeroPadding = keyNamer.zeroPadding
        self.valuePoolStartRange = max(valuePoolStartRange, 1)
        let stream = UInt64(threadIndex) << 8
        func rng(_ k: UInt64) -> WorkloadRandom { WorkloadRandom(seed: spec.seed, stream: stream | k) }
        chooser = DiscreteChooser(weights: spec.proportions, random: rng(1))
        keys = KeyChooser(spec: spec, random: rng(2))
        inserts = AcknowledgedCounter(start: spec.recordCount)
        let t = Int64(threadIndex), n = Int64(threadCount)
        loadCounter = spec.insertStart + t
        switch phase {
        case .load:
            let total = spec.insertCount
            operationLimit = total / n + (t < total % n ? 1 : 0)
        case .run:
            let total = spec.operationCount
            operationLimit = total == 0 ? 0 : total / n + (t < total % n ? 1 : 0)
        }
        let ycsbMode = spec.zipfianMode == .ycsb
        scanUniform = UniformGenerator(lower: Int64(spec.minScanLength), upper: Int64(spec.maxScanLength), random: rng(3))
        scanZipf = ZipfianGenerator(itemCount: Int64(spec.maxScanLength - spec.minScanLength + 1),
                                    theta: GrayZipfianGenerator.ycsbConstant, random: rng(3))
        scanGray = ycsbMode && spec.scanLengthDistribution == .zipfian
            ? GrayZipfianGenerator(min: Int64(spec.minScanLength), max: Int64(spec.maxScanLength), random: rng(3)) : nil
        fieldChooser = UniformGenerator(lower: 0, upper: Int64(spec.fieldCount - 1), random: rng(4))
        fieldLengths = FieldLengthGenerator(distribution: spec.fieldLengthDistribution, minimum: min(spec.minFieldLength, spec.fieldLength),
                                            maximum: spec.fieldLength, ycsbMode: ycsbMode, random: rng(5))
        valueRandom = rng(6)
        ycsbValues = YCSBValueGenerator(random: rng(7))
    }

    /// The next operation; its key is in the key buffer until the next call.
    @inlinable @inline(__always)
    public mutating func next() -> Operation {
        phase == .load ? nextLoad() : nextRun()
    }

    @usableFromInline
    mutating func nextLoad() -> Operation {
        let keyNumber = loadCounter
        loadCounter += Int64(threadCount)
        return operation(.insert, keyNumber: keyNumber, readField: Operation.allFields, writeField: Operation.allFields)
    }

    @usableFromInline
    mutating func nextRun() -> Operation {
        let kind = OperationKind(rawValue: UInt8(truncatingIfNeeded: chooser.next()))!
        switch kind {
        case .insert:
            precondition(inserts.canIssue, "too many unacknowledged inserts: call acknowledgeInsert(keyNumber:) when inserts complete")
            let view = inserts.next()
            let key = keyNumber(ofView: view)
            return operation(.insert, keyNumber: key, readField: Operation.allFields, writeField: Operation.allFields)
        case .read, .delete:
            let key = nextKeyNumber()
            let read = kind == .read ? readFieldChoice() : Operation.allFields
            return operation(kind, keyNumber: key, readField: read, writeField: Operation.allFields)
        case .update:
            let key = nextKeyNumber()
            let write = writeFieldChoice()
            return operation(.update, keyNumber: key, readField: Operation.allFields, writeField: write)
        case .readModifyWrite:
            let key = nextKeyNumber()
            let read = readFieldChoice()
            let write = writeFieldChoice()
            return operation(.readModifyWrite, keyNumber: key, readField: read, writeField: write)
        case .scan:
            let key = nextKeyNumber()
            let read = readFieldChoice()
            let length = nextScanLength()
            var op = operation(.scan, keyNumber: key, readField: read, writeField: Operation.allFields)
            op.scanLength = length
            return op
        }
    }

    @inline(__always)
    mutating func nextKeyNumber() -> Int64 {
        let last = inserts.lastAcknowledged
        let view = keys.next(lastAcknowledged: last)
        return keyNumber(ofView: view)
    }

    @inline(__always)
    mutating func readFieldChoice() -> Int {
        spec.readAllFields ? Operation.allFields : Int(fieldChooser.next())
    }

    @inline(__always)
    mutating func writeFieldChoice() -> Int {
        spec.writeAllFields ? Operation.allFields : Int(fieldChooser.next())
    }

    mutating func nextScanLength() -> Int {
        if spec.scanLengthDistribution == .uniform { return Int(scanUniform.next()) }
        if scanGray != nil { return Int(scanGray!.next()) }
        return spec.minScanLength + Int(scanZipf.next())
    }

    @inline(__always)
    mutating func operation(_ kind: OperationKind, keyNumber: Int64, readField: Int, writeField: Int) -> Operation {
        let prefixLength = prefixLength, hashed = hashedKeys, padding = zeroPadding
        keyLength = prefixLength + keyBuffer.withUnsafeMutableBytes {
            KeyNamer.writeNumber(keyNumber: keyNumber, hashed: hashed, zeroPadding: padding, into: $0.baseAddress! + prefixLength)
        }
        return Operation(kind: kind, keyNumber: keyNumber, keyLength: keyLength, scanLength: 0,
                         readField: readField, writeField: writeField)
    }

    /// Maps this thread's view index (see the type's note) to a global keynum.
    @inline(__always)
    func keyNumber(ofView view: Int64) -> Int64 {
        let base = spec.recordCount
        if view < base || threadCount == 1 { return view }
        return base + Int64(threadIndex) + (view - base) * Int64(threadCount)
    }

    /// Reports a completed insert so later reads may target it (run phase).
    @discardableResult
    public mutating func acknowledgeInsert(keyNumber: Int64) -> Bool {
        let base = spec.recordCount
        guard keyNumber >= base else { return false }
        let offset = keyNumber - base - Int64(threadIndex)
        guard offset >= 0, offset % Int64(threadCount) == 0 else { return false }
        return inserts.acknowledge(base + offset / Int64(threadCount))
    }

    /// The highest keynum this thread's reads may target (records loaded + its acknowledged inserts).
    public var latestReadableKeyNumber: Int64 { keyNumber(ofView: inserts.lastAcknowledged) }

    /// Calls `body` with the current key's bytes. Inlinable: as a cross-module call on a stream held in a class
    /// property, the caller passed the whole stream by value, copying it (a ~200-byte memcpy per operation).
    @inlinable @inline(__always)
    public func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try keyBuffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<keyLength])) }
    }

    /// The current key as a String (allocates; for tests and logs).
    public var currentKey: String { withKey { String(decoding: $0, as: UTF8.self) } }

    /// Fast mode: the next field value as a slice of a `ValuePool` built with this stream's
    /// `valuePoolStartRange` and at least `spec.fieldLength` bytes of value length.
    public mutating func nextPooledValue() -> FieldValue {
        let length = fieldLengths.next()
        return FieldValue(offset: nextPooledOffset(), length: length)
    }

    /// Fast mode: only the start offset of the next pooled value, for a caller that knows its length (a constant
    /// field length draws no random numbers, so skipping the length leaves the stream unchanged).
    @inlinable @inline(__always)
    public mutating func nextPooledOffset() -> Int {
        Int(valueRandom.next(below: UInt64(valuePoolStartRange)))
    }

    /// YCSB mode: the next field's length (from `fieldlengthdistribution`).
    public mutating func nextValueLength() -> Int { fieldLengths.next() }

    /// YCSB mode: fills `buffer` with a fresh YCSB-style random value.
    public mutating func fillValue(_ buffer: UnsafeMutableRawBufferPointer) { ycsbValues.fill(buffer) }

    /// A pool matching this stream's spec (share one between threads).
    public static func makeValuePool(for spec: WorkloadSpec, startRange: Int = ValuePool.defaultStartRange) -> ValuePool {
        ValuePool(maxValueLength: spec.fieldLength, startRange: startRange, seed: spec.seed)
    }
}
