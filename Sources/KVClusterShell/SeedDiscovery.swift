import KVCluster
import KVPartitioning

/// A cluster member as a node knows it: its id and the client address it was given as a seed.
public struct ClusterMember: Equatable, Sendable {
    public var id: NodeID
    /// `host:port` of the member's client (RESP) port, as written in `--seeds`.
    public var clientAddress: String

    public init(id: NodeID, clientAddress: String) {
        self.id = id
        self.clientAddress = clientAddress
    }
}

/// Turns a static seed list (client addresses) into a membership by learning each seed's node id from
/// its peer handshake (or from what an earlier run persisted). Pure: the shell feeds what it learned.
///
/// Every node of a cluster must be started with the same seed list: the ring is built from the ids of
/// exactly those nodes, so all of them place keys alike.
public struct SeedDiscovery: Sendable {
    public let selfMember: ClusterMember
    /// Seed client addresses other than this node's own, in the order given.
    public let seeds: [String]
    /// Ids learned so far, by seed address.
    public private(set) var learned: [String: NodeID] = [:]

    /// Why a seed list or a learned id is unusable.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case duplicateID(NodeID, String, String)
        case claimsOwnID(String)

        public var description: String {
            switch self {
            case let .duplicateID(id, a, b): "node id \(id) is claimed by both \(a) and \(b)"
            case let .claimsOwnID(addr): "the node at \(addr) claims this node's own id"
            }
        }
    }

    /// `seeds` may include this node's own address (it is skipped).
    public init(selfMember: ClusterMember, seeds: [String], persisted: [ClusterMember] = []) {
        self.selfMember = selfMember
        var unique: [String] = []
        for s in seeds where s != selfMember.clientAddress && !unique.contains(s) { unique.append(s) }
        self.seeds = unique
        for m in persisted where unique.contains(m.clientAddress) && m.id != selfMember.id {
            learned[m.clientAddress] = m.id
        }
    }

    /// Records the id a seed reported in its handshake. A changed id for an address replaces the old one
    /// only before the membership is complete (afterwards the shell refuses the peer).
    public mutating func learn(address: String, id: NodeID) throws(Problem) {
        guard seeds.contains(address) else { return }
        guard id != selfMember.id else { throw .claimsOwnID(address) }
        if let other = learned.first(where: { $0.value == id && $0.key != address }) {
            throw .duplicateID(id, other.key, address)
        }
        learned[address] = id
    }

    /// Seeds whose id is still unknown.
    public var missing: [String] { seeds.filter { learned[$0] == nil } }

    /// The members (self first, then seeds in the given order) once every seed's id is known.
    public var members: [ClusterMember]? {
        guard missing.isEmpty else { return nil }
        return [selfMember] + seeds.map { ClusterMember(id: learned[$0]!, clientAddress: $0) }
    }

    /// The ring membership for `members`.
    public static func membership(_ members: [ClusterMember]) throws(MembershipError) -> Membership {
        try Membership(members.map { Node(id: $0.id) })
    }

    /// Persisted form: one `id address` line per member.
    public static func encode(_ members: [ClusterMember]) -> [UInt8] {
        Array(members.map { "\($0.id) \($0.clientAddress)\n" }.joined().utf8)
    }

    /// Parses the persisted form; unreadable lines are skipped.
    public static func decode(_ bytes: [UInt8]) -> [ClusterMember] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { return nil }
            return ClusterMember(id: String(parts[0]), clientAddress: String(parts[1]))
        }
    }
}
