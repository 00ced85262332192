#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The shared append-only log: appends go to an in-memory pending buffer under the log lock;
/// one background thread drains it with write(2) and fdatasyncs per the `FsyncPolicy`.
/// A failed write or fdatasync is fatal: it is recorded, every waiter and every later append
/// fails with it, and `onFatal` runs once. Nothing is retried.
final class LogWriter: @unchecked Sendable {
    typealias Callback = @Sendable (Result<Void, StorageError>) -> Void

    let lock = ConditionLock()
    let directory: String
    let policy: FsyncPolicy
    let segmentSizeLimit: Int
    let io: any FileIO
    let logger: Logger
    private let onFatal: @Sendable (StorageError) -> Void
    /// Called on the writer thread after a segment was closed (the engine may start a merge).
    var onSegmentClosed: (@Sendable () -> Void)?

    // Guarded by `lock`.
    /// Every segment except the active one.
    private var segments: [UInt32: SegmentInfo] = [:]
    /// The active segment's bookkeeping, kept apart so appends avoid a dictionary lookup.
    private var activeInfo = SegmentInfo()
    private(set) var activeSegment: UInt32
    private var activeSize = 0
    private(set) var nextSegmentId: UInt32
    private var nextSequence: UInt64
    private var pending = ByteSink()
    private var spare: ByteSink? = ByteSink()
    private var sealed: [(segment: UInt32, bytes: ByteSink)] = []
    private var lastAppendedSequence: UInt64
    private(set) var durableSequence: UInt64
    private var waiters: [(sequence: UInt64, callback: Callback)] = []
    private(set) var fatal: StorageError?
    private var closing = false
    private var writerIdle = false
    /// The writer is gathering appends for a moment before writing (policies `no` and `everysec`).
    private var coalescing = false
    private var writerExited = false
    private var lastSyncNanos: UInt64 = 0
    private(set) var writes: UInt64 = 0
    private(set) var fsyncs: UInt64 = 0
    private(set) var fsyncTotalNanos: UInt64 = 0
    private(set) var fsyncMaxNanos: UInt64 = 0
    private(set) var lastFsyncMillis: Int64 = 0

    // Owned by the writer thread.
    private var fd: Int32 = -1
    private var fdSegment: UInt32 = 0
    /// The open segment's path (for error messages; built once per segment, not per write).
    private var fdPath = ""
    /// Bytes were written since the last fdatasync (everysec only syncs then).
    private var dirty = false

    init(directory: String, policy: FsyncPolicy, segmentSizeLimit: Int, io: any FileIO, logger: Logger,
         recoveredSegments: [UInt32: SegmentInfo], nextSequence: UInt64,
         onFatal: @escaping @Sendable (StorageError) -> Void) {
        self.directory = directory
        self.policy = policy
        self.segmentSizeLimit = segmentSizeLimit
        self.io = io
        self.logger = logger
        self.onFatal = onFatal
        self.segments = recoveredSegments
        let first = (recoveredSegments.keys.max() ?? 0) + 1
        activeSegment = first
        nextSegmentId = first + 1
        self.nextSequence = max(nextSequence, 1)
        lastAppendedSequence = self.nextSequence - 1
        durableSequence = lastAppendedSequence
    }

    func start() {
        spawnDetachedThread { [self] in run() }
    }

    func path(_ segment: UInt32, _ ext: String = "log") -> String {
        directory + "/" + DataDirectory.fileName(segment, ext)
    }

    // MARK: Appending (called with a shard lock held; never blocks on I/O)

    struct Appended {
        var sequence: UInt64
        var segment: UInt32
        var offset: UInt32
        /// The writer is asleep: call `wake()` after releasing the shard lock.
        var wake: Bool
    }

    /// Appends one record. `superseded` is the (segment, record size) of the version it replaces.
    func append(kind: RecordFormat.Kind, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                expiry: Int64, superseded: (segment: UInt32, bytes: Int)?) throws(StorageError) -> Appended {
        lock.lock()
        defer { lock.unlock() }
        if let fatal { throw StorageError(.fatal(fatal.description)) }
        if closing { throw StorageError(.closed) }
        let size = RecordFormat.size(keyLength: key.count, valueLength: value.count)
        if activeSize > 0 && activeSize + size > segmentSizeLimit { roll() }
        let sequence = nextSequence
        nextSequence += 1
        let offset = activeSize
        RecordFormat.encode(into: pending.reserve(size), kind: kind, sequence: sequence, expiry: expiry, key: key, value: value)
        activeSize += size
        lastAppendedSequence = sequence
        writes += 1
        activeInfo.totalBytes += size
        activeInfo.maxSequence = sequence
        if kind != .put { activeInfo.deadBytes += size }
        if let superseded { addDead(segment: superseded.segment, bytes: superseded.bytes) }
        let wake = writerIdle || (coalescing && pending.count >= Self.coalesceBytes)
        return Appended(sequence: sequence, segment: activeSegment, offset: UInt32(offset), wake: wake)
    }

    /// Counts a record as dead without writing anything (lazy expiry, flush).
    func markDead(segment: UInt32, bytes: Int) {
        lock.withLock { addDead(segment: segment, bytes: bytes) }
    }

    func markDead(_ amounts: [UInt32: Int]) {
        guard !amounts.isEmpty else { return }
        lock.withLock { for (s, b) in amounts { addDead(segment: s, bytes: b) } }
    }

    @inline(__always) private func addDead(segment: UInt32, bytes: Int) {
        if segment == activeSegment {
            activeInfo.deadBytes += bytes
        } else {
            segments[segment]?.deadBytes += bytes
        }
    }

    func wake() { lock.broadcast() }

    /// How long the writer gathers appends under `no`/`everysec` before writing them: the window of
    /// acknowledged writes a process crash can lose under those policies.
    static let coalesceNanos: UInt64 = 1_000_000
    /// Pending bytes that end the gathering early.
    static let coalesceBytes = 256 * 1024

    private func roll() {
        let full = pending
        pending = spare ?? ByteSink()
        spare = nil
        sealed.append((activeSegment, full))
        segments[activeSegment] = activeInfo
        activeInfo = SegmentInfo()
        activeSegment = nextSegmentId
        nextSegmentId += 1
        activeSize = 0
    }

    /// Reserves a segment id for merge output.
    func allocateSegmentId() -> UInt32 {
        lock.withLock {
            let id = nextSegmentId
            nextSegmentId += 1
            return id
        }
    }

    // MARK: Durability

    func isAcknowledgeable(_ ticket: DurabilityTicket) -> Bool {
        if policy != .always || ticket.sequence == 0 { return true }
        return lock.withLock { durableSequence >= ticket.sequence }
    }

    func whenAcknowledgeable(_ ticket: DurabilityTicket, _ callback: @escaping Callback) {
        if policy != .always || ticket.sequence == 0 { return callback(.success(())) }
        lock.lock()
        if durableSequence >= ticket.sequence {
            lock.unlock()
            return callback(.success(()))
        }
        if let fatal {
            lock.unlock()
            return callback(.failure(fatal))
        }
        waiters.append((ticket.sequence, callback))
        lock.unlock()
    }

    var pendingBytes: Int { lock.withLock { pending.count + sealed.reduce(0) { $0 + $1.bytes.count } } }

    // MARK: Writer thread

    private func run() {
        lock.lock()
        while true {
            while !closing && fatal == nil && pending.count == 0 && sealed.isEmpty && !everysecDue() {
                writerIdle = true
                if policy == .everysec && dirty {
                    lock.wait(untilMonotonicNanos: lastSyncNanos + 1_000_000_000)
                } else {
                    lock.wait()
                }
                writerIdle = false
            }
            if fatal != nil { break }
            if policy != .always && !closing && sealed.isEmpty && pending.count < Self.coalesceBytes {
                // Gather appends for up to a millisecond so one write(2) carries many records and
                // appenders need not wake this thread for each one (they wake it only from idle).
                coalescing = true
                lock.wait(untilMonotonicNanos: monotonicNanos() + Self.coalesceNanos)
                coalescing = false
            }
            let chunks = sealed
            sealed = []
            let batch = pending
            pending = spare ?? ByteSink()
            spare = nil
            let batchSegment = activeSegment
            let batchLast = lastAppendedSequence
            let stopping = closing
            let syncDue = policy == .always || stopping || everysecDue()
            lock.unlock()

            var failure: StorageError?
            var syncNanos: [UInt64] = []
            do throws(StorageError) {
                for chunk in chunks {
                    try writeChunk(chunk.bytes, segment: chunk.segment)
                    if policy != .no || stopping {
                        syncNanos.append(try sync())
                        dirty = false
                    }
                    io.close(fd)
                    fd = -1
                }
                if batch.count > 0 {
                    try writeChunk(batch, segment: batchSegment)
                    dirty = true
                }
                if syncDue && fd >= 0 && dirty {
                    syncNanos.append(try sync())
                    dirty = false
                }
            } catch {
                failure = error
            }

            batch.reset()
            for c in chunks { c.bytes.reset() }
            lock.lock()
            spare = batch
            for n in syncNanos {
                fsyncs += 1
                fsyncTotalNanos += n
                fsyncMaxNanos = max(fsyncMaxNanos, n)
            }
            if !syncNanos.isEmpty {
                lastFsyncMillis = StorageConfiguration.wallClockMillis()
                lastSyncNanos = monotonicNanos()
            }
            var ready: [Callback] = []
            if let failure {
                // Report first (outside the lock), so whoever sees the failure also sees it reported.
                lock.unlock()
                logger.critical("log writer failed; refusing further writes", metadata: ["error": "\(failure)"])
                onFatal(failure)
                lock.lock()
                fatal = failure
                ready = waiters.map(\.callback)
                waiters = []
                lock.unlock()
                for cb in ready { cb(.failure(failure)) }
                lock.lock()
                break
            }
            for c in chunks { segments[c.segment]?.closed = true }
            if syncDue && !dirty { durableSequence = max(durableSequence, batchLast) }
            if !waiters.isEmpty {
                var keep: [(sequence: UInt64, callback: Callback)] = []
                for w in waiters {
                    if w.sequence <= durableSequence { ready.append(w.callback) } else { keep.append(w) }
                }
                waiters = keep
            }
            let done = stopping && pending.count == 0 && sealed.isEmpty
            if !ready.isEmpty || !chunks.isEmpty {
                lock.unlock()
                for cb in ready { cb(.success(())) }
                if !chunks.isEmpty { onSegmentClosed?() }
                lock.lock()
            }
            if done { break }
        }
        if fd >= 0 { io.close(fd); fd = -1 }
        writerExited = true
        lock.broadcast()
        lock.unlock()
    }

    private func everysecDue() -> Bool {
        policy == .everysec && dirty && monotonicNanos() >= lastSyncNanos + 1_000_000_000
    }

    private func writeChunk(_ bytes: ByteSink, segment: UInt32) throws(StorageError) {
        if fd < 0 || fdSegment != segment {
            if fd >= 0 { io.close(fd) }
            fd = -1
            let p = path(segment)
            fd = try io.open(p, flags: O_WRONLY | O_CREAT | O_APPEND)
            fdSegment = segment
            fdPath = p
            if policy != .no { try io.syncDirectory(directory) }
        }
        try io.write(fd, bytes.bytes, path: fdPath)
    }

    private func sync() throws(StorageError) -> UInt64 {
        let start = monotonicNanos()
        try io.fdatasync(fd, path: fdPath)
        return monotonicNanos() - start
    }

    /// Drains everything, fsyncs, and stops the writer thread. Returns the fatal error, if any.
    func shutdown() -> StorageError? {
        lock.lock()
        closing = true
        lock.broadcast()
        while !writerExited { lock.wait() }
        let f = fatal
        let left = waiters
        waiters = []
        lock.unlock()
        for w in left { w.callback(.failure(f ?? StorageError(.closed))) }
        return f
    }

    // MARK: Merge support (all under the log lock)

    /// Closed, fully written segments (candidates for merge), ascending by id.
    func closedSegments() -> [(id: UInt32, info: SegmentInfo)] {
        lock.withLock {
            segments.filter { $0.value.closed }
                .map { (id: $0.key, info: $0.value) }
                .sorted { $0.id < $1.id }
        }
    }

    func installMerged(_ added: [UInt32: SegmentInfo], removing: [UInt32]) {
        lock.withLock {
            for (id, info) in added { segments[id] = info }
            for id in removing { segments[id] = nil }
        }
    }

    /// All segments including the active one.
    func snapshotSegments() -> [UInt32: SegmentInfo] {
        lock.withLock {
            var all = segments
            all[activeSegment] = activeInfo
            return all
        }
    }
}
