import KVPartitioning

/// splitmix64: a small seeded generator so property tests are reproducible.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A membership of `count` nodes with random ids, optionally spread over `zones` zones.
func randomMembership(_ count: Int, zones: Int = 0, rng: inout SeededRNG) -> Membership {
    var nodes: [Node] = []
    var ids = Set<String>()
    while nodes.count < count {
        let id = "n" + String(rng.next() % 1_000_000, radix: 16)
        guard ids.insert(id).inserted else { continue }
        nodes.append(Node(id: id, zone: zones > 0 ? "z" + String(Int(rng.next() % UInt64(zones))) : nil))
    }
    return try! Membership(nodes)
}

/// The consistent schemes, built for a membership (fixed partitions from scratch).
enum Scheme: CaseIterable, Sendable {
    case modulo, ring, vnodes, fixed, jump, rendezvous

    func make(_ m: Membership) -> any Partitioner {
        switch self {
        case .modulo: ModuloPartitioner(membership: m)
        case .ring: TokenRing(membership: m, tokensPerNode: 1)
        case .vnodes: TokenRing(membership: m, tokensPerNode: 64)
        case .fixed: FixedPartitionRing(membership: m, partitionCount: 256)
        case .jump: JumpPartitioner(membership: m)
        case .rendezvous: RendezvousPartitioner(membership: m)
        }
    }

    /// The partitioner after a change, derived the way a cluster would (fixed: re-claim).
    func makeAfter(_ before: any Partitioner, _ m: Membership) -> any Partitioner {
        if let fixed = before as? FixedPartitionRing { return fixed.rebalanced(to: m) }
        return make(m)
    }

    static let consistent: [Scheme] = [.ring, .vnodes, .fixed, .jump, .rendezvous]
}
