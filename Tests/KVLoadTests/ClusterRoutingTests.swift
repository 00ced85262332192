@testable import KVLoad
import Testing

/// The routing decision as a pure function: key → the key's replicas, owner first (the same lists the
/// nodes' `Placement` computes) → the first replica with a free slot, never a non-replica.
@Suite("Cluster routing")
struct ClusterRoutingTests {
    let ids = ["n1", "n2", "n3", "n4", "n5"]

    func keys(_ count: Int) -> [[UInt8]] { (0..<count).map { Array("user\($0 &* 7919)".utf8) } }

    func route(_ router: ClusterRouter, _ key: [UInt8]) -> [String] {
        key.withUnsafeBytes { router.route($0) }.members.map { router.memberIDs[$0] }
    }

    @Test(arguments: [1, 2, 3, 5])
    func routesMatchThePlacementOfTheNodes(n: Int) throws {
        let router = try ClusterRouter(memberIDs: ids, n: n, tokensPerNode: 64)
        var owners: Set<String> = []
        for key in keys(2_000) {
            let routed = route(router, key)
            #expect(routed == router.primaryIDs(for: key))
            #expect(routed.count == n && Set(routed).count == n)
            owners.insert(routed[0])
        }
        #expect(owners == Set(ids))  // every member owns some keys
    }

    @Test func routesDependOnlyOnTheIDsNotTheirOrder() throws {
        let a = try ClusterRouter(memberIDs: ids, n: 3, tokensPerNode: 16)
        let b = try ClusterRouter(memberIDs: ids.reversed(), n: 3, tokensPerNode: 16)
        for key in keys(500) { #expect(route(a, key) == route(b, key)) }
    }

    @Test func routesAreCappedAtTheBufferCapacity() throws {
        let many = (0..<12).map { "m\($0)" }
        let router = try ClusterRouter(memberIDs: many, n: 10, tokensPerNode: 8)
        let key = Array("k".utf8)
        #expect(router.replicas == PreferenceBuffer.capacity)
        #expect(route(router, key) == Array(router.primaryIDs(for: key).prefix(PreferenceBuffer.capacity)))
    }

    @Test func choiceIsOwnerFirstThenTheNextReplicaElseWait() throws {
        let router = try ClusterRouter(memberIDs: ids, n: 3, tokensPerNode: 64)
        let key = Array("some-key".utf8)
        let r = key.withUnsafeBytes { router.route($0) }
        let (owner, second, third) = (r[0], r[1], r[2])
        let others = Set(ids.indices).subtracting([owner, second, third])
        #expect(ClusterRouter.choose(r) { _ in true } == owner)
        #expect(ClusterRouter.choose(r) { $0 != owner } == second)
        #expect(ClusterRouter.choose(r) { $0 == third } == third)
        // Only non-replicas have a free slot: wait (nil), never send to a non-replica.
        #expect(ClusterRouter.choose(r) { others.contains($0) } == nil)
        #expect(ClusterRouter.choose(PreferenceBuffer()) { _ in true } == nil)
    }

    @Test func badTopologyIsAClearError() {
        #expect(throws: LoadError.self) { try ClusterRouter(memberIDs: ["a", "a"], n: 1, tokensPerNode: 4) }
        #expect(throws: LoadError.self) { try ClusterRouter(memberIDs: [], n: 1, tokensPerNode: 4) }
        #expect(throws: LoadError.self) { try ClusterRouter(memberIDs: ["a"], n: 0, tokensPerNode: 4) }
    }

    @Test func parsesTheClusterCommands() throws {
        let members = try ClusterDiscovery.parseMembers(["n2 127.0.0.1:7002 up", "n1 127.0.0.1:7001 down"])
        #expect(members == [.init(id: "n2", address: "127.0.0.1:7002", isUp: true),
                            .init(id: "n1", address: "127.0.0.1:7001", isUp: false)])
        let states = try ClusterDiscovery.parseMembers(["a h:1 suspect heard=900ms", "b h:2 joining", "c h:3 removed", "d h:4 leaving"])
        #expect(states.map(\.isUp) == [true, true, false, false])
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseMembers(["a h:1 sleeping"]) }
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseMembers(["? 127.0.0.1:7003 unknown"]) }
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseMembers(["n1 127.0.0.1:7001"]) }
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseMembers([]) }
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseMembers(["n1 a:1 up", "n1 b:2 up"]) }
        #expect(try ClusterDiscovery.parseTokensPerNode(["n1 h:1 tokens=64 share=0.3", "n2 h:2 tokens=64 share=0.7"]) == 64)
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseTokensPerNode(["n1 h:1 tokens=64", "n2 h:2 tokens=32"]) }
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseTokensPerNode(["n1 h:1 share=1"]) }
        #expect(try ClusterDiscovery.parseReplicaCount(info: "# Cluster\r\ncluster_enabled:1\r\ncluster_n:3\r\ncluster_r:2\r\n") == 3)
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseReplicaCount(info: "cluster_enabled:0\r\n") }
        #expect(throws: LoadError.self) { try ClusterDiscovery.parseReplicaCount(info: "cluster_n:0\r\n") }
    }

    @Test("INFO text becomes fields: headers and blank lines skipped, values keep inner colons")
    func infoFields() {
        let fields = InfoFields.parse("# Server\r\nredis_version:7.0.0\r\n\r\n# Cluster\r\ncluster_hints:12 \r\n"
                                      + "peer_addr:127.0.0.1:7001\r\nnot a field\r\n")
        #expect(fields == ["redis_version": "7.0.0", "cluster_hints": "12", "peer_addr": "127.0.0.1:7001"])
    }
}
