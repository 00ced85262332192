/// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2016) as a live routing
/// policy over a `TokenRing`: a request goes to the first node clockwise from its key whose current
/// load is below the cap ⌈c · (m + 1) / n⌉ (m requests in flight, c the capacity factor > 1), so
/// no node carries more than about c times the mean — a hot key's requests spill to the next nodes.
///
/// `replicas` restricts the walk to the key's preference list (only nodes holding a copy can serve
/// it); when all of them are full the least-loaded replica takes the request. The router holds the
/// live load counts; it is a value the caller owns (no locks, no clock).
public struct BoundedLoadRouter: Sendable {
    public let ring: TokenRing
    /// c in the paper, > 1 (HAProxy's `hash-balance-factor` / 100).
    public let capacityFactor: Double
    /// Requests in flight per node.
    public private(set) var loads: [Int]
    /// Requests in flight in total.
    public private(set) var totalLoad: Int
    private var scratch: [NodeIndex] = []

    public init(ring: TokenRing, capacityFactor: Double = 1.25) {
        precondition(capacityFactor > 1, "capacity factor must exceed 1")
        self.ring = ring
        self.capacityFactor = capacityFactor
        self.loads = [Int](repeating: 0, count: ring.membership.count)
        self.totalLoad = 0
    }

    /// The per-node cap for the next request.
    public var capacity: Int {
        Int((capacityFactor * Double(totalLoad + 1) / Double(loads.count)).rounded(.up))
    }

    /// Routes one request for the key and counts it against the chosen node.
    public mutating func assign(_ keyHash: UInt64, replicas: Int? = nil) -> NodeIndex {
        let cap = capacity
        var chosen = -1
        if let replicas {
            ring.preferenceList(for: keyHash, count: replicas, into: &scratch)
            chosen = scratch.first { loads[$0] < cap } ?? scratch.min { loads[$0] < loads[$1] }!
        } else {
            let loads = self.loads
            ring.walk(from: keyHash) { node in
                if loads[node] < cap {
                    chosen = node
                    return false
                }
                return true
            }
            if chosen < 0 { chosen = ring.owner(of: keyHash) }
        }
        loads[chosen] += 1
        totalLoad += 1
        return chosen
    }

    /// Marks a request on `node` finished.
    public mutating func release(_ node: NodeIndex) {
        precondition(loads[node] > 0, "release without assign")
        loads[node] -= 1
        totalLoad -= 1
    }
}
