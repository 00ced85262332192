#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When the log writer calls `fdatasync`, and therefore when a write may be acknowledged.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Group commit: a write is acknowledged only after an fdatasync that covers it.
    case always
    /// The writer thread calls fdatasync once per second; writes are acknowledged at once.
    case everysec
    /// Never fsync explicitly (the OS decides); writes are acknowledged at once.
    case no
}

/// Settings for a `StorageEngine`. Only `directory` is required.
public struct StorageConfiguration: Sendable {
    /// Data directory holding `NNNNNNNN.log` segments and `NNNNNNNN.hint` files (created if missing).
    public var directory: String
    /// Fsync policy of the log writer (default `.everysec`).
    public var fsync: FsyncPolicy = .everysec
    /// Number of independently locked index shards (default 16).
    public var shardCount: Int = 16
    /// Size at which the active segment is closed and a new one started (default 64 MiB, at most 4 GiB).
    public var segmentSizeLimit: Int = 64 << 20
    /// Largest accepted key (default 64 KiB).
    public var maxKeyBytes: Int = 64 * 1024
    /// Largest accepted value (default 512 MiB).
    public var maxValueBytes: Int = 512 * 1024 * 1024
    /// A background merge starts when dead/total bytes of the closed segments exceeds this (default 0.5)...
    public var mergeDeadRatio: Double = 0.5
    /// ...and the closed segments hold at least this many dead bytes (default 512 MiB, as Bitcask's
    /// `dead_bytes_merge_trigger`: merging rewrites live data, so it should pay for itself).
    public var mergeMinDeadBytes: Int = 512 << 20
    /// Under `.always`, how long appends that nobody waits for (`whenAcknowledgeable`) may sit in
    /// memory before an idle log writer writes them anyway (default 50 ms). Writes someone waits for
    /// are written at once: the wait is the commit request.
    public var unrequestedWriteDelayMillis: Int = 50
    /// When true, a corrupt record in the middle of a segment makes `init` throw instead of skipping it.
    public var strictRecovery: Bool = false
    /// Milliseconds since the Unix epoch; used only for expiry decisions. Default: the wall clock.
    public var clock: @Sendable () -> Int64 = StorageConfiguration.wallClockMillis
    /// Called once, on the thread that saw it, when the log hits a fatal I/O error.
    public var onFatalError: @Sendable (StorageError) -> Void = { _ in }

    /// A configuration with every default and the given data directory.
    public init(directory: String) {
        self.directory = directory
    }

    /// The wall clock in milliseconds since the Unix epoch.
    @Sendable public static func wallClockMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// The condition of a SET: unconditional, only if the key is absent (NX) or present (XX).
public enum SetCondition: Sendable {
    case always, ifAbsent, ifPresent
}

/// What a SET does to the key's expiry.
public enum TTLUpdate: Sendable {
    /// The new value has no expiry.
    case clear
    /// Keep the existing expiry (Redis KEEPTTL); no expiry when the key was absent.
    case keep
    /// Expire at this absolute time (ms since the Unix epoch).
    case expireAt(Int64)
}

/// Identifies a log write for durability tracking: the record's sequence number.
/// Wait for it with `StorageEngine.whenAcknowledgeable` before replying under `.always`.
public struct DurabilityTicket: Sendable, Hashable, Comparable {
    /// Sequence number of the record (0 = nothing was written; always acknowledgeable).
    public let sequence: UInt64

    public init(sequence: UInt64) { self.sequence = sequence }

    /// A ticket for "nothing written" (e.g. a failed NX): acknowledgeable at once.
    public static let none = DurabilityTicket(sequence: 0)

    public static func < (a: DurabilityTicket, b: DurabilityTicket) -> Bool { a.sequence < b.sequence }
}

/// Result of a write: whether it changed anything and the ticket to wait on before replying.
public struct WriteOutcome: Sendable {
    /// False when the condition (NX/XX) failed or a delete found no key; nothing was logged then.
    public var applied: Bool
    public var ticket: DurabilityTicket

    public init(applied: Bool, ticket: DurabilityTicket) {
        self.applied = applied
        self.ticket = ticket
    }
}

/// The commit requests of one event loop under `.always`: every write the loop waits for is noted, and
/// at the end of the tick `due()` names the one ticket to pass to `StorageEngine.whenAcknowledgeable`,
/// the newest noted so far, or nil when an earlier request already covers everything (durability is
/// monotonic, so that one request covers every older write). Waits need not arrive in ticket order
/// and may carry `.none` (nothing to wait for): the newest is tracked, not the last.
public struct CommitRequests: Sendable {
    private var requested = DurabilityTicket.none
    private var newest = DurabilityTicket.none
    private var scheduled = false

    public init() {}

    /// Notes a write someone waits for. True when the caller must schedule `due()` for the end of the
    /// tick: the first note since the last `due()`.
    public mutating func note(_ ticket: DurabilityTicket) -> Bool {
        if ticket > newest { newest = ticket }
        defer { scheduled = true }
        return !scheduled
    }

    /// The ticket to request now, if any; it counts as requested from then on.
    public mutating func due() -> DurabilityTicket? {
        scheduled = false
        guard newest > requested else { return nil }
        requested = newest
        return newest
    }
}
