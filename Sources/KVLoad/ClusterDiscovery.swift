import Foundation
import KVHash
import NIOCore
import NIOPosix
import RESP

/// What a `kvnode` cluster told the driver at start: its members, N and tokens per member.
public struct ClusterTopology: Sendable, Equatable {
    /// One member as `CLUSTER.MEMBERS` lists it.
    public struct Member: Sendable, Equatable {
        public var id: String
        /// Client address, `host:port`.
        public var address: String
        public var isUp: Bool

        public init(id: String, address: String, isUp: Bool) {
            self.id = id
            self.address = address
            self.isUp = isUp
        }
    }

    public var members: [Member]
    public var n: Int
    public var tokensPerNode: Int

    public init(members: [Member], n: Int, tokensPerNode: Int) {
        self.members = members
        self.n = n
        self.tokensPerNode = tokensPerNode
    }
}

/// Finds out whether the first reachable host is a `kvnode` cluster member and, if so, the cluster's
/// topology (`CLUSTER.MEMBERS`, `CLUSTER.RING`, `INFO cluster`); then checks the local placement
/// against `CLUSTER.RING key`. The parsers are pure; `discover` does the (blocking, start-up only) I/O.
public enum ClusterDiscovery {
    /// Keys whose preference lists are compared with the cluster's at start.
    static let checkKeys: [[UInt8]] = (0..<8).map { Array("kvbench-route-check-\($0)".utf8) }

    /// Parses `CLUSTER.MEMBERS` lines (`node-id host:port state [heard=<ms>]`, state up, suspect, down,
    /// joining, leaving or removed; `up`, `suspect` and `joining` members are driven). A seed whose id is not known yet
    /// (`? host:port unknown`) means the cluster is still forming: an error.
    public static func parseMembers(_ lines: [String]) throws(LoadError) -> [ClusterTopology.Member] {
        guard !lines.isEmpty else { throw .binding("CLUSTER.MEMBERS returned no members") }
        var members: [ClusterTopology.Member] = []
        for line in lines {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 3 || (parts.count == 4 && parts[3].hasPrefix("heard=")) else {
                throw .binding("unexpected CLUSTER.MEMBERS line '\(line)'")
            }
            if parts[0] == "?" { throw .binding("cluster still forming: seed \(parts[1]) has not been heard from") }
            guard ["up", "suspect", "down", "joining", "leaving", "removed"].contains(parts[2]) else {
                throw .binding("unexpected member state in '\(line)'")
            }
            guard !members.contains(where: { $0.id == parts[0] }) else { throw .binding("member \(parts[0]) listed twice") }
            // A suspect member still serves (SWIM may suspect a node of a starved machine); a ring member
            // shown `joining` has just restarted and serves too. Only `down` (and members off the ring) are skipped.
            members.append(.init(id: parts[0], address: parts[1], isUp: ["up", "suspect", "joining"].contains(parts[2])))
        }
        return members
    }

    /// Tokens per member from `CLUSTER.RING` lines (`node-id host:port tokens=T share=S`); every line must agree.
    public static func parseTokensPerNode(_ lines: [String]) throws(LoadError) -> Int {
        var tokens: Int?
        for line in lines {
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("tokens=") }),
                  let t = Int(field.dropFirst("tokens=".count)), t > 0 else {
                throw .binding("unexpected CLUSTER.RING line '\(line)'")
            }
            if let tokens, tokens != t { throw .binding("members disagree on tokens per node (\(tokens) vs \(t))") }
            tokens = t
        }
        guard let tokens else { throw .binding("CLUSTER.RING returned no members") }
        return tokens
    }

    /// N (`cluster_n`) from the text of `INFO cluster`.
    public static func parseReplicaCount(info: String) throws(LoadError) -> Int {
        guard let n = InfoFields.parse(info)["cluster_n"].flatMap({ Int($0) }), n > 0 else {
            throw .binding("INFO cluster has no valid cluster_n")
        }
        return n
    }

    /// Asks the first reachable host; nil when it is a standalone node (or not a kvnode at all: any
    /// error reply to `CLUSTER.MEMBERS` other than a cluster that is still forming). A forming cluster
    /// is retried for up to `formingTimeout` seconds.
    static func discover(hosts: [(String, Int)], group: EventLoopGroup, formingTimeout: Double = 10,
                         connector: RESPConnector = .plain) throws -> ClusterTopology? {
        var lastError = ""
        for (host, port) in hosts {
            let client: BlockingRESPClient
            do {
                client = try BlockingRESPClient.connect(host: host, port: port, group: group, connector: connector)
            } catch {
                lastError = "cannot connect to \(host):\(port): \(error)"
                continue
            }
            defer { client.close() }
            let deadline = MonotonicClock.nanoseconds() + UInt64(formingTimeout * 1e9)
            while true {
                do {
                    return try topology(client)
                } catch let error as LoadError {
                    if case .binding(let message) = error, message.hasPrefix(standaloneMarker) { return nil }
                    guard isForming(error), MonotonicClock.nanoseconds() < deadline else { throw error }
                    usleep(100_000)
                }
            }
        }
        throw LoadError.binding(lastError)
    }

    static let standaloneMarker = "standalone: "

    static func isForming(_ error: LoadError) -> Bool {
        guard case .binding(let message) = error else { return false }
        return message.hasPrefix("cluster still forming") || message.contains("CLUSTERDOWN")
    }

    /// The ring members (CLUSTER.MEMBERS on CLUSTER.RING), tokens per node and N, as a client routes by them.
    public static func topology(_ client: BlockingRESPClient) throws -> ClusterTopology {
        let membersReply = try client.call(["CLUSTER.MEMBERS"])
        if case .error(let b) = membersReply {
            let text = String(buffer: b)
            if text.hasPrefix("CLUSTERDOWN") { throw LoadError.binding("cluster still forming: \(text)") }
            throw LoadError.binding(standaloneMarker + text)
        }
        let known = try parseMembers(try lines(membersReply, "CLUSTER.MEMBERS"))
        let ringLines = try lines(try client.call(["CLUSTER.RING"]), "CLUSTER.RING")
        let tokens = try parseTokensPerNode(ringLines)
        // The ring is what CLUSTER.RING lists: members that joined but are not on it yet, and members that
        // left or were removed, are known but own no keys.
        let ringIDs = ringLines.compactMap { $0.split(separator: " ").first.map(String.init) }
        let members = known.filter { ringIDs.contains($0.id) }
        guard members.count == ringIDs.count else {
            throw LoadError.binding("cluster still forming: ring members \(ringIDs) not all in CLUSTER.MEMBERS")
        }
        let n = try parseReplicaCount(info: try text(try client.call(["INFO", "cluster"]), "INFO cluster"))
        return ClusterTopology(members: members, n: n, tokensPerNode: tokens)
    }

    /// Compares the local placement with `CLUSTER.RING key` for `checkKeys`; throws on any difference.
    static func verify(_ router: ClusterRouter, hosts: [(String, Int)], group: EventLoopGroup,
                       connector: RESPConnector = .plain) throws {
        var client: BlockingRESPClient?
        for (host, port) in hosts where client == nil { client = try? BlockingRESPClient.connect(host: host, port: port, group: group, connector: connector) }
        guard let client else { throw LoadError.binding("cannot reconnect to verify the ring") }
        defer { client.close() }
        for key in checkKeys {
            let theirs = try lines(try client.call(["CLUSTER.RING", String(decoding: key, as: UTF8.self)]), "CLUSTER.RING key")
                .map { $0.split(separator: " ").first.map(String.init) ?? "" }
            let ours = router.primaryIDs(for: key)
            let routed = router.route(hash: XXH3.hash(key)).members.map { router.memberIDs[$0] }
            guard theirs == ours, Array(ours.prefix(router.replicas)) == routed else {
                throw LoadError.binding("local placement disagrees with the cluster for key '\(String(decoding: key, as: UTF8.self))': "
                                        + "cluster \(theirs), local \(ours), routed \(routed)")
            }
        }
    }

    /// A reply that is an array of bulk strings, as strings.
    public static func lines(_ reply: RESPValue, _ command: String) throws(LoadError) -> [String] {
        guard case .array(let items?) = reply else { throw .binding("unexpected reply to \(command): \(reply)") }
        var out: [String] = []
        for item in items {
            guard case .bulkString(let b?) = item else { throw .binding("unexpected element in \(command) reply: \(item)") }
            out.append(String(buffer: b))
        }
        return out
    }

    /// A reply that is one string (bulk, simple or verbatim).
    public static func text(_ reply: RESPValue, _ command: String) throws(LoadError) -> String {
        switch reply {
        case .bulkString(let b?), .simpleString(let b): return String(buffer: b)
        case .verbatimString(_, let b): return String(buffer: b)
        default: throw .binding("unexpected reply to \(command): \(reply)")
        }
    }
}
