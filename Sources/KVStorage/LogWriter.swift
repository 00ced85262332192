#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The shared append-only log: appends go to an in-memory pending buffer under the log lock;
/// one background thread drains it with write(2) and fdatasyncs per the `FsyncPolicy`.
///
/// Under `.always` an append does not start a write: the first `whenAcknowledgeable` for a record
/// not yet durable does (a commit request). Event loops ask once per tick, for the newest write of
/// the tick, so one fsync covers every write a tick made (Redis fsyncs once per loop iteration, in
/// `beforeSleep`, for the same reason); waking the writer on the first append of a tick would sync
/// that one record alone and make the rest of the tick wait a whole fsync longer. What nobody asks
/// about is still written: an idle writer looks every `unrequestedPollNanos`, and `coalesceBytes`
/// pending wake it.
/// A failed write or fdatasync is fatal: it is recorded, every waiter and every later append
/// fails with it, and `onFatal` runs once. Nothing is retried.
final class LogWriter: @unchecked Sendable {
    typealias Callback = @Sendable (Result<Void, StorageError>) -> Void

    let lock = ConditionLock()
    let directory: String
    let policy: FsyncPolicy
    let segmentSizeLimit: Int
    /// Under `always`: how often an idle writer looks for appends nobody requested a commit for.
    let unrequestedPollNanos: UInt64
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
    /// Under `always`: pending appends that no commit request covered sat through a poll period.
    private var unrequestedDue = false
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
    /// The open segment's data length (where the next write goes) and how far it is zero-filled.
    private var fdOffset = 0
    private var zeroedEnd = 0
    /// The open segment is zero-extended ahead of its data (policy `always`, until an extension fails).
    private var preallocating = false
    /// The open segment was zero-extended (at least attempted) since it was last cut back to its data.
    private var extended = false
    /// errno of a failed seek back to the data's end: the next write would land in the wrong place.
    private var seekFailed: Int32 = 0

    init(directory: String, policy: FsyncPolicy, segmentSizeLimit: Int, unrequestedPollNanos: UInt64 = 50_000_000,
         io: any FileIO, logger: Logger,
         recoveredSegments: [UInt32: SegmentInfo], nextSequence: UInt64,
         onFatal: @escaping @Sendable (StorageError) -> Void) {
        self.directory = directory
        self.policy = policy
        self.segmentSizeLimit = segmentSizeLimit
        self.unrequestedPollNanos = unrequestedPollNanos
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
        // Under `always` the commit request wakes the writer (`whenAcknowledgeable`), an append only
        // when the buffer is full: waking it on every tick's first append would cost a second
        // futex wake-up and context switch per fsync.
        let wake = policy == .always
            ? writerIdle && pending.count >= Self.coalesceBytes
            : writerIdle || (coalescing && pending.count >= Self.coalesceBytes)
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
        // A commit request: the writer starts at once when idle (and goes again right after a
        // round that is under way when it is busy).
        let wake = writerIdle
        lock.unlock()
        if wake { lock.broadcast() }
    }

    var pendingBytes: Int { lock.withLock { pending.count + sealed.reduce(0) { $0 + $1.bytes.count } } }

    // MARK: Writer thread

    private func run() {
        lock.lock()
        while true {
            while !closing && fatal == nil && sealed.isEmpty && !everysecDue() && !commitDue() {
                writerIdle = true
                if policy == .everysec && dirty {
                    lock.wait(untilMonotonicNanos: lastSyncNanos + 1_000_000_000)
                } else if policy == .always {
                    // Appends nobody asks about are written when a whole poll period passes idle.
                    let deadline = monotonicNanos() + unrequestedPollNanos
                    lock.wait(untilMonotonicNanos: deadline)
                    if pending.count > 0 && monotonicNanos() >= deadline { unrequestedDue = true }
                } else {
                    lock.wait()
                }
                writerIdle = false
            }
            unrequestedDue = false
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
                    try writeChunk(chunk.bytes, segment: chunk.segment, closing: true)
                    try trimPreallocation()
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
                if stopping { try trimPreallocation() }
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

    /// Whether pending appends should be written now: always for `no`/`everysec` (which gather for
    /// a moment below); under `always` when a commit was requested, enough bytes are pending, or
    /// unrequested appends sat through a poll period.
    private func commitDue() -> Bool {
        guard pending.count > 0 else { return false }
        guard policy == .always else { return true }
        return !waiters.isEmpty || pending.count >= Self.coalesceBytes || unrequestedDue
    }

    private func everysecDue() -> Bool {
        policy == .everysec && dirty && monotonicNanos() >= lastSyncNanos + 1_000_000_000
    }

    /// Writes `bytes` at the end of `segment`'s data; `closing`: the segment ends with them (no extension).
    private func writeChunk(_ bytes: ByteSink, segment: UInt32, closing: Bool = false) throws(StorageError) {
        if seekFailed != 0 { throw .io("lseek", seekFailed, fdPath) }
        if fd < 0 || fdSegment != segment {
            if fd >= 0 {
                try trimPreallocation()
                io.close(fd)
            }
            fd = -1
            let p = path(segment)
            // Under `always` the file is written at its own position (not O_APPEND) so that it can be
            // zero-extended ahead of the data: see `preallocate()`.
            fd = try io.open(p, flags: O_WRONLY | O_CREAT | (policy == .always ? 0 : O_APPEND))
            fdOffset = Int(lseek(fd, 0, SEEK_END))
            if fdOffset < 0 { throw .io("lseek", errno, p) }
            zeroedEnd = fdOffset
            extended = false
            preallocating = policy == .always
            fdSegment = segment
            fdPath = p
            if policy != .no { try io.syncDirectory(directory) }
        }
        try io.write(fd, bytes.bytes, path: fdPath)
        fdOffset += bytes.count
        if preallocating && !closing && zeroedEnd - fdOffset < Self.preallocationChunk / 2 { preallocate() }
    }

    /// Zero-extends the open segment by `preallocationChunk` past its data (policy `always`).
    ///
    /// fdatasync of an append must also commit the file's new size and block allocation through the
    /// file system's journal; an overwrite of blocks that already hold (zero) data flushes only the
    /// data. Measured here (ext4, `scripts/fsync_probe.py`): about 185 µs per append+fdatasync against
    /// about 110 µs per overwrite. `fallocate` does not help: its extents are "unwritten" and the
    /// first write into them is a metadata change again. The zeros cost one extra MB written per MB
    /// of log, and the round that carries them a slower fsync (once per ~1 MB of records); the file
    /// is cut back to its data when the segment closes, and recovery drops a zero tail left by a crash.
    /// A failed extension (a full disk) is not an error: the segment just goes on appending.
    private func preallocate() {
        let start = max(zeroedEnd, fdOffset)
        extended = true  // even a failed (partial) extension may have lengthened the file
        guard lseek(fd, off_t(start), SEEK_SET) >= 0 else { preallocating = false; return }
        var ok = true
        Self.zeroChunk.withUnsafeBytes { zeros in
            do throws(StorageError) { try io.write(fd, zeros, path: fdPath) } catch { ok = false }
        }
        if ok { zeroedEnd = start + Self.preallocationChunk } else { preallocating = false }
        // Back to the end of the data: the next write continues there. If even that fails, the next
        // write(2) lands past it and the segment's zero gap reads as a torn tail on recovery; make it fatal.
        if lseek(fd, off_t(fdOffset), SEEK_SET) < 0 { preallocating = false; seekFailed = errno }
    }

    /// Cuts a preallocated segment back to its data before its last fdatasync (segment close, shutdown).
    private func trimPreallocation() throws(StorageError) {
        guard fd >= 0, extended else { return }
        try io.truncate(fd, length: fdOffset, path: fdPath)
        zeroedEnd = fdOffset
        extended = false
        dirty = true
    }

    /// Zero bytes a preallocating segment is extended by at a time.
    static let preallocationChunk = 1 << 20
    private static let zeroChunk = [UInt8](repeating: 0, count: preallocationChunk)

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
