/// What `StorageEngine.init` found and did while rebuilding the index from disk.
public struct RecoveryReport: Sendable {
    /// A damaged tail (torn write or zero fill) that recovery cut off.
    public struct TruncatedTail: Sendable, Equatable {
        public var segment: UInt32
        /// Offset of the first bad byte; the file was truncated to this length.
        public var offset: Int
        public var droppedBytes: Int
    }

    /// A bad record followed by valid ones: skipped (or fatal with `strictRecovery`).
    public struct CorruptRecord: Sendable, Equatable {
        public var segment: UInt32
        public var offset: Int
        /// How many bytes were skipped to reach the next valid record.
        public var skippedBytes: Int
        public var reason: String
    }

    public var segmentsScanned = 0
    public var hintFilesUsed = 0
    public var recordsReplayed = 0
    public var keysLoaded = 0
    public var expiredSkipped = 0
    public var truncatedTails: [TruncatedTail] = []
    public var corruptRecords: [CorruptRecord] = []
    /// Hint files that failed validation (their segments were scanned instead).
    public var invalidHintFiles: [UInt32] = []
    public var durationNanos: UInt64 = 0

    public init() {}
}

/// Outcome of one merge (compaction) pass.
public struct MergeReport: Sendable {
    public var segmentsMerged = 0
    public var segmentsWritten = 0
    public var recordsKept = 0
    public var recordsDropped = 0
    public var bytesBefore = 0
    public var bytesAfter = 0
    public var durationNanos: UInt64 = 0

    public init() {}
}

/// A snapshot of the engine's counters.
public struct StorageStats: Sendable {
    public var keys = 0
    public var keyBytes = 0
    public var valueBytes = 0
    /// Estimate of index memory: hash table slots plus per-entry headers and allocator rounding.
    public var indexBytes = 0
    public var segments = 0
    public var diskBytes = 0
    public var deadBytes = 0
    public var pendingBytes = 0
    public var writes: UInt64 = 0
    public var fsyncs: UInt64 = 0
    public var fsyncTotalNanos: UInt64 = 0
    public var fsyncMaxNanos: UInt64 = 0
    public var merges = 0
    /// A background merge is running now (a direct `mergeNow()` call is not counted).
    public var mergeInProgress = false
    public var lastMerge: MergeReport?
    public var lastError: StorageError?
    public var fsync: FsyncPolicy = .everysec
    /// Wall-clock ms of the last completed fdatasync of the log (0 = never).
    public var lastFsyncTimeMillis: Int64 = 0

    public init() {}
}
