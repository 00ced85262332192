import KVHash
import Logging

/// A durable, log-structured (Bitcask-style) key-value store.
///
/// Keys and values live in memory in a sharded open-addressing index (GET never touches disk);
/// every write is appended to a shared log of segment files, drained by one background writer
/// thread that fsyncs per `FsyncPolicy`. Closed segments are compacted by merge, which writes
/// hint files so restart can rebuild the index without verifying every record.
///
/// Thread-safe. Lock order: shard lock, then log lock (`flushAll` takes shard locks in index order).
public final class StorageEngine: Sendable {
    let configuration: StorageConfiguration
    let logger: Logger
    let io: any FileIO
    let shards: [Shard]
    let log: LogWriter
    let control: EngineControl
    /// What recovery found when the engine was opened.
    public let recoveryReport: RecoveryReport

    /// Opens (creating if needed) the data directory, runs recovery and starts the log writer.
    public convenience init(configuration: StorageConfiguration, logger: Logger = Logger(label: "kvstorage")) throws {
        try self.init(configuration: configuration, logger: logger, io: PosixFileIO())
    }

    /// Like the public initializer, with injectable system calls (tests use it for fault injection).
    init(configuration: StorageConfiguration, logger: Logger, io: any FileIO) throws {
        guard configuration.shardCount >= 1,
              configuration.segmentSizeLimit >= 1024, configuration.segmentSizeLimit <= Int(UInt32.max),
              configuration.maxKeyBytes >= 1, configuration.maxKeyBytes <= RecordFormat.maxFieldLength,
              configuration.maxValueBytes >= 0, configuration.maxValueBytes <= RecordFormat.maxFieldLength
        else {
            throw StorageError(.invalidConfiguration("shardCount >= 1, 1 KiB <= segmentSizeLimit <= 4 GiB, key/value limits <= 1 GiB"))
        }
        self.configuration = configuration
        self.logger = logger
        self.io = io
        shards = (0..<configuration.shardCount).map { _ in Shard() }
        try DataDirectory.create(configuration.directory)
        let recovered = try Recovery(configuration: configuration, io: io, logger: logger, shards: shards).run()
        recoveryReport = recovered.report
        let control = EngineControl()
        self.control = control
        log = LogWriter(
            directory: configuration.directory, policy: configuration.fsync,
            segmentSizeLimit: configuration.segmentSizeLimit,
            unrequestedPollNanos: UInt64(max(1, configuration.unrequestedWriteDelayMillis)) * 1_000_000,
            io: io, logger: logger,
            recoveredSegments: recovered.segments, nextSequence: recovered.nextSequence,
            onFatal: { error in
                if control.recordFatal(error) { configuration.onFatalError(error) }
            })
        log.onSegmentClosed = { [weak self] in self?.maybeStartBackgroundMerge() }
        log.start()
    }

    deinit {
        if !control.isClosed { _ = try? close() }
    }

    @inline(__always) func shard(for hash: UInt64) -> Shard {
        shards[Int(truncatingIfNeeded: (hash >> 40) % UInt64(shards.count))]
    }

    @inline(__always) func now() -> Int64 { configuration.clock() }

    // MARK: Reads

    /// Runs `body` with the live value (nil when absent or expired) while holding the shard lock:
    /// copy the bytes out and return quickly; do not block or call back into the engine.
    public func withValue<R>(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let h = XXH3.hash(key)
        let s = shard(for: h)
        s.lock.lock()
        defer { s.lock.unlock() }
        guard let slot = s.table.find(hash: h, key: key) else { return try body(nil) }
        let e = s.table[slot]
        if e.expiry != 0 && e.isExpired(now: now()) {  // read the clock only for keys with a TTL
            expireLocked(s, slot: slot)
            return try body(nil)
        }
        return try body(e.value)
    }

    /// Copies the value out (convenience for tests and tools).
    public func get(_ key: [UInt8]) -> [UInt8]? {
        key.withUnsafeBytes { k in withValue(forKey: k) { v in v.map { Array($0) } } }
    }

    /// True when the key is present and not expired.
    public func exists(_ key: UnsafeRawBufferPointer) -> Bool {
        withValue(forKey: key) { $0 != nil }
    }

    /// Remaining time to live in ms; nil when there is no such key, -1 when it has no expiry (Redis PTTL).
    public func ttlMillis(key: UnsafeRawBufferPointer) -> Int64? {
        let h = XXH3.hash(key)
        let s = shard(for: h)
        s.lock.lock()
        defer { s.lock.unlock() }
        guard let slot = s.table.find(hash: h, key: key) else { return nil }
        let e = s.table[slot]
        let t = now()
        if e.isExpired(now: t) {
            expireLocked(s, slot: slot)
            return nil
        }
        return e.expiry == 0 ? -1 : e.expiry - t
    }

    /// Number of keys in the index. Expired keys not yet removed (lazily or by `expireSome`) are included.
    public var count: Int {
        shards.reduce(0) { n, s in n + s.lock.withLock { s.table.count } }
    }

    /// Number of keys whose first byte is `byte`, from counters (no scan: one lock per shard). Like
    /// `count`, it includes expired keys not yet removed.
    public func count(withFirstByte byte: UInt8) -> Int {
        shards.reduce(0) { n, s in n + s.lock.withLock { s.keysByFirstByte[Int(byte)] } }
    }

    /// Removes an expired entry found under the shard lock (no log record: the record's own expiry
    /// already makes it invisible after restart).
    func expireLocked(_ s: Shard, slot: Int) {
        let e = s.table[slot]
        log.markDead(segment: e.segment, bytes: e.recordSize)
        s.removeAndFree(slot: slot)
    }

    // MARK: Writes

    /// Sets `key` to `value`, subject to `condition`; `ttl` decides the new expiry.
    /// Returns `applied == false` (and logs nothing) when the condition fails.
    public func set(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, ttl: TTLUpdate = .clear,
                    condition: SetCondition = .always) throws(StorageError) -> WriteOutcome {
        guard key.count <= configuration.maxKeyBytes else {
            throw StorageError(.tooLarge(what: "key", size: key.count, limit: configuration.maxKeyBytes))
        }
        guard value.count <= configuration.maxValueBytes else {
            throw StorageError(.tooLarge(what: "value", size: value.count, limit: configuration.maxValueBytes))
        }
        let h = XXH3.hash(key)
        let s = shard(for: h)
        s.lock.lock()
        var slot = s.table.find(hash: h, key: key)
        if let found = slot, s.table[found].expiry != 0, s.table[found].isExpired(now: now()) {
            expireLocked(s, slot: found)
            slot = nil
        }
        let old = slot.map { s.table[$0] }
        switch condition {
        case .always: break
        case .ifAbsent where old != nil, .ifPresent where old == nil:
            s.lock.unlock()
            return WriteOutcome(applied: false, ticket: .none)
        default: break
        }
        let expiry: Int64
        switch ttl {
        case .clear: expiry = 0
        case .keep: expiry = old?.expiry ?? 0
        case let .expireAt(at): expiry = max(at, 1)
        }
        let appended: LogWriter.Appended
        do {
            appended = try log.append(kind: .put, key: key, value: value, expiry: expiry,
                                      superseded: old.map { ($0.segment, $0.recordSize) })
        } catch {
            s.lock.unlock()
            throw error
        }
        let entry = Entry.allocate(hash: h, sequence: appended.sequence, expiry: expiry, segment: appended.segment,
                                   offset: appended.offset, key: key, value: value)
        if let slot, let old {
            s.table.replace(slot: slot, with: entry)
            s.didReplace(old, with: entry)
            old.free()
        } else {
            s.table.insertNew(entry)
            s.didInsert(entry)
        }
        s.lock.unlock()
        if appended.wake { log.wake() }
        return WriteOutcome(applied: true, ticket: DurabilityTicket(sequence: appended.sequence))
    }

    /// Array convenience for `set(key:value:ttl:condition:)`.
    public func set(_ key: [UInt8], _ value: [UInt8], ttl: TTLUpdate = .clear,
                    condition: SetCondition = .always) throws(StorageError) -> WriteOutcome {
        let result = key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                Result { () throws(StorageError) in try set(key: k, value: v, ttl: ttl, condition: condition) }
            }
        }
        return try result.get()
    }

    /// Deletes the key by appending a tombstone; `applied` tells whether a live key existed.
    public func delete(key: UnsafeRawBufferPointer) throws(StorageError) -> WriteOutcome {
        let h = XXH3.hash(key)
        let s = shard(for: h)
        s.lock.lock()
        guard let slot = s.table.find(hash: h, key: key) else {
            s.lock.unlock()
            return WriteOutcome(applied: false, ticket: .none)
        }
        let old = s.table[slot]
        if old.expiry != 0 && old.isExpired(now: now()) {
            expireLocked(s, slot: slot)
            s.lock.unlock()
            return WriteOutcome(applied: false, ticket: .none)
        }
        let appended: LogWriter.Appended
        do {
            appended = try log.append(kind: .tombstone, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0),
                                      expiry: 0, superseded: (old.segment, old.recordSize))
        } catch {
            s.lock.unlock()
            throw error
        }
        s.removeAndFree(slot: slot)
        s.lock.unlock()
        if appended.wake { log.wake() }
        return WriteOutcome(applied: true, ticket: DurabilityTicket(sequence: appended.sequence))
    }

    /// Array convenience for `delete(key:)`.
    public func delete(_ key: [UInt8]) throws(StorageError) -> WriteOutcome {
        let result = key.withUnsafeBytes { k in Result { () throws(StorageError) in try delete(key: k) } }
        return try result.get()
    }

    /// Removes every key durably by logging one flush marker (it deletes every older record).
    public func flushAll() throws(StorageError) -> DurabilityTicket {
        for s in shards { s.lock.lock() }
        defer { for s in shards.reversed() { s.lock.unlock() } }
        let appended = try log.append(kind: .flush, key: UnsafeRawBufferPointer(start: nil, count: 0),
                                      value: UnsafeRawBufferPointer(start: nil, count: 0), expiry: 0, superseded: nil)
        var dead: [UInt32: Int] = [:]
        for s in shards {
            for i in 0..<s.table.capacity {
                if let raw = s.table.raw(at: i) {
                    let e = Entry(raw)
                    dead[e.segment, default: 0] += e.recordSize
                }
            }
            s.table.removeAll()
            s.resetCounters()
        }
        log.markDead(dead)
        if appended.wake { log.wake() }
        return DurabilityTicket(sequence: appended.sequence)
    }

    // MARK: Durability

    /// True when a reply may be sent for this write now (always true under `.everysec` and `.no`).
    public func isAcknowledgeable(_ ticket: DurabilityTicket) -> Bool {
        log.isAcknowledgeable(ticket)
    }

    /// Calls `callback` exactly once, on any thread, when the write is durable per the policy
    /// (at once when it already is), or with the fatal error if the log failed first.
    public func whenAcknowledgeable(_ ticket: DurabilityTicket,
                                    _ callback: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        log.whenAcknowledgeable(ticket, callback)
    }
}

/// Engine-wide flags and merge results, guarded by one lock.
final class EngineControl: @unchecked Sendable {
    let lock = ConditionLock()
    /// Serialises merges and `close()`.
    let mergeLock = ConditionLock()
    private var closed = false
    private var mergeRunning = false
    private var fatal: StorageError?
    private(set) var merges = 0
    private(set) var lastMerge: MergeReport?
    private var lastErrorValue: StorageError?

    var isClosed: Bool { lock.withLock { closed } }
    func markClosed() -> Bool { lock.withLock { defer { closed = true }; return !closed } }

    /// Records the first fatal error; true if this call was the first.
    func recordFatal(_ e: StorageError) -> Bool {
        lock.withLock {
            lastErrorValue = e
            if fatal != nil { return false }
            fatal = e
            return true
        }
    }

    func recordError(_ e: StorageError) { lock.withLock { lastErrorValue = e } }
    var lastError: StorageError? { lock.withLock { lastErrorValue } }

    func tryStartBackgroundMerge() -> Bool {
        lock.withLock {
            if closed || mergeRunning { return false }
            mergeRunning = true
            return true
        }
    }

    func backgroundMergeFinished() { lock.withLock { mergeRunning = false } }

    func recordMerge(_ r: MergeReport) {
        lock.withLock {
            merges += 1
            lastMerge = r
        }
    }

    var mergeSnapshot: (Int, MergeReport?, Bool) { lock.withLock { (merges, lastMerge, mergeRunning) } }
}
