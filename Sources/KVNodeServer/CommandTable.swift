import KVHash
import NIOCore

/// The commands a node understands, with Redis's arity convention (n = exactly n arguments including
/// the name, -n = at least n) and the flags and key positions that `COMMAND` reports to clients.
public enum CommandKind: UInt8, Sendable, CaseIterable {
    case ping, echo, get, set, del, exists, mget, mset, dbsize, info, auth, hello, command, config,
         select, quit, flushall, flushdb, client, ttl, pttl, strlen, setnx,
         setex, type, time, reset, unlink,
         kvGet, kvPut, kvDel, kvGetLocal, kvRepair, clusterMembers, clusterRing,
         clusterJoin, clusterLeave, clusterRemove, clusterRebalance
}

/// Static facts about one command.
public struct CommandSpec: Sendable {
    public let kind: CommandKind
    public let name: String
    public let arity: Int
    public let flags: [String]
    public let firstKey: Int
    public let lastKey: Int
    public let keyStep: Int
    /// May run before the client has authenticated.
    public let allowedUnauthenticated: Bool
    /// Adds data, so it is refused once `--maxmemory` is reached (Redis's `denyoom` flag).
    public let deniedWhenOutOfMemory: Bool

    init(_ kind: CommandKind, _ name: String, _ arity: Int, _ flags: [String], keys: (Int, Int, Int) = (0, 0, 0), noAuth: Bool = false) {
        self.kind = kind
        self.name = name
        self.arity = arity
        self.flags = flags
        (firstKey, lastKey, keyStep) = keys
        allowedUnauthenticated = noAuth
        deniedWhenOutOfMemory = flags.contains("denyoom")
    }

    /// True when `argumentCount` (including the command name) satisfies the arity.
    @inlinable public func accepts(argumentCount: Int) -> Bool {
        arity >= 0 ? argumentCount == arity : argumentCount >= -arity
    }
}

/// Looks commands up by name without allocating: the name is upper-cased into a small stack buffer,
/// hashed with XXH3, and checked against the table.
public struct CommandTable: Sendable {
    public static let shared = CommandTable()

    public let specs: [CommandSpec]
    private let byHash: [UInt64: Int]

    init() {
        let r = ["readonly", "fast"], w = ["write", "denyoom"], wf = ["write", "denyoom", "fast"]
        specs = [
            CommandSpec(.ping, "ping", -1, ["fast", "stale"]),
            CommandSpec(.echo, "echo", 2, ["fast"]),
            CommandSpec(.get, "get", 2, r, keys: (1, 1, 1)),
            CommandSpec(.set, "set", -3, w, keys: (1, 1, 1)),
            CommandSpec(.setnx, "setnx", 3, wf, keys: (1, 1, 1)),
            CommandSpec(.setex, "setex", 4, w, keys: (1, 1, 1)),
            CommandSpec(.del, "del", -2, ["write"], keys: (1, -1, 1)),
            CommandSpec(.unlink, "unlink", -2, ["write", "fast"], keys: (1, -1, 1)),
            CommandSpec(.exists, "exists", -2, r, keys: (1, -1, 1)),
            CommandSpec(.mget, "mget", -2, r, keys: (1, -1, 1)),
            CommandSpec(.mset, "mset", -3, w, keys: (1, -1, 2)),
            CommandSpec(.strlen, "strlen", 2, r, keys: (1, 1, 1)),
            CommandSpec(.type, "type", 2, r, keys: (1, 1, 1)),
            CommandSpec(.ttl, "ttl", 2, r, keys: (1, 1, 1)),
            CommandSpec(.pttl, "pttl", 2, r, keys: (1, 1, 1)),
            CommandSpec(.dbsize, "dbsize", 1, r),
            CommandSpec(.info, "info", -1, ["loading", "stale"]),
            CommandSpec(.auth, "auth", -2, ["noscript", "loading", "stale", "fast", "no_auth"], noAuth: true),
            CommandSpec(.hello, "hello", -1, ["noscript", "loading", "stale", "fast", "no_auth"], noAuth: true),
            CommandSpec(.command, "command", -1, ["loading", "stale"]),
            CommandSpec(.config, "config", -2, ["admin", "loading", "stale"]),
            CommandSpec(.select, "select", 2, ["loading", "stale", "fast"]),
            CommandSpec(.quit, "quit", -1, ["loading", "stale", "fast", "no_auth"], noAuth: true),
            CommandSpec(.reset, "reset", 1, ["loading", "stale", "fast", "no_auth"], noAuth: true),
            CommandSpec(.flushall, "flushall", -1, ["write"]),
            CommandSpec(.flushdb, "flushdb", -1, ["write"]),
            CommandSpec(.client, "client", -2, ["admin", "loading", "stale"]),
            CommandSpec(.time, "time", 1, ["loading", "stale", "fast"]),
            CommandSpec(.kvGet, "kv.get", -2, ["readonly"], keys: (1, 1, 1)),
            CommandSpec(.kvPut, "kv.put", -3, ["write", "denyoom"], keys: (1, 1, 1)),
            CommandSpec(.kvDel, "kv.del", -2, ["write"], keys: (1, 1, 1)),
            CommandSpec(.kvGetLocal, "kv.getlocal", 2, ["readonly", "fast"], keys: (1, 1, 1)),
            CommandSpec(.kvRepair, "kv.repair", 1, ["admin"]),
            CommandSpec(.clusterMembers, "cluster.members", 1, ["loading", "stale"]),
            CommandSpec(.clusterRing, "cluster.ring", -1, ["loading", "stale"]),
            CommandSpec(.clusterJoin, "cluster.join", 2, ["admin"]),
            CommandSpec(.clusterLeave, "cluster.leave", 1, ["admin"]),
            CommandSpec(.clusterRemove, "cluster.remove", 2, ["admin"]),
            CommandSpec(.clusterRebalance, "cluster.rebalance", -1, ["loading", "stale"]),
        ]
        var byHash: [UInt64: Int] = [:]
        for (i, spec) in specs.enumerated() {
            let h = XXH3.hash(spec.name.uppercased())
            precondition(byHash[h] == nil, "command hash collision")
            byHash[h] = i
        }
        self.byHash = byHash
    }

    /// The spec for a command name given in any letter case, or nil.
    public func lookup(_ name: ByteBuffer) -> CommandSpec? {
        lookupIndex(name).map { specs[$0] }
    }

    func lookupIndex(_ name: ByteBuffer) -> Int? {
        let n = name.readableBytes
        guard n > 0, n <= 32 else { return nil }
        return name.withUnsafeReadableBytes { raw -> Int? in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { upper -> Int? in
                for i in 0..<n {
                    let c = raw[i]
                    upper[i] = (c >= 97 && c <= 122) ? c - 32 : c
                }
                let h = XXH3.hash(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(upper)[0..<n]))
                guard let index = byHash[h] else { return nil }
                // Guard against a hash match on a different name.
                let spec = specs[index]
                guard spec.name.utf8.count == n else { return nil }
                var j = 0
                for c in spec.name.utf8 {
                    let u = (c >= 97 && c <= 122) ? c - 32 : c
                    if u != upper[j] { return nil }
                    j += 1
                }
                return index
            }
        }
    }
}
