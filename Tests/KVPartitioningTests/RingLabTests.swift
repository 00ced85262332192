import KVHash
import KVPartitioning
@testable import KVRingLab
import Testing

@Suite struct RingLabTests {
    @Test func loadSpreadByHand() {
        let even = LoadSpread(of: [5, 5, 5, 5] as [Int])
        #expect(even == LoadSpread(maxOverMean: 1, coefficientOfVariation: 0, maxShare: 0.25))
        let skewed = LoadSpread(of: [3.0, 1.0])
        #expect(skewed.maxOverMean == 1.5)
        #expect(skewed.coefficientOfVariation == 0.5)
        #expect(skewed.maxShare == 0.75)
        #expect(LoadSpread(of: [2, 0] as [Int]).coefficientOfVariation == 1)
    }

    @Test func distributionsByHand() {
        #expect(RequestDistribution.uniform.operationShares(keyCount: 4) == [0.25, 0.25, 0.25, 0.25])
        let hot = RequestDistribution.hotspot(hotFraction: 0.2, hotOperationFraction: 0.8).operationShares(keyCount: 10)
        #expect(abs(hot[0] - 0.4) < 1e-12 && abs(hot[1] - 0.4) < 1e-12)
        #expect(hot[2...].allSatisfy { abs($0 - 0.025) < 1e-12 })
        // Zipf θ=1 over 4 keys: H = 25/12, rank 1 = 12/25, landing on key XXH3(1) mod 4.
        let zipf = RequestDistribution.zipfian(theta: 1).operationShares(keyCount: 4)
        #expect(abs(zipf.reduce(0, +) - 1) < 1e-12)
        let rank1 = Int(XXH3.hash(UInt64(1)) % 4)
        #expect(zipf[rank1] >= 12.0 / 25 - 1e-12)
        let latest = RequestDistribution.latest(theta: 1).operationShares(keyCount: 4)
        #expect(abs(latest[3] - 12.0 / 25) < 1e-12)
        #expect(abs(latest[0] - 3.0 / 25) < 1e-12)
    }

    @Test func keysAreHashedLikeTheirStrings() {
        for i in [0, 7, 10, 99, 12345, 9_999_999] {
            #expect(LabKeys.hash(ofKey: i) == XXH3.hash(LabKeys.key(i)))
            #expect(LabKeys.keyLength(i) == LabKeys.key(i).utf8.count)
        }
        let keys = LabKeys(count: 1001, threads: 3)
        #expect(keys.hashes[1000] == XXH3.hash("user1000"))
    }

    @Test func idealMovement() {
        var c = RingLabConfig()
        c.nodes = 10
        #expect(abs(c.idealMovedFraction - 1.0 / 11) < 1e-12)
        c.add = 0
        c.remove = 1
        #expect(c.idealMovedFraction == 0.1)
        c.add = 3
        #expect(abs(c.idealMovedFraction - 3.0 / 12) < 1e-12)
        #expect(c.membershipAfter.nodes.map(\.id).suffix(3) == ["node-10", "node-11", "node-12"])
        #expect(!c.membershipAfter.nodes.contains { $0.id == "node-9" })
    }

    @Test func validationCatchesBadFlags() {
        var c = RingLabConfig()
        #expect(c.validationError == nil)
        c.partitions = 1000
        #expect(c.validationError != nil)
        c.partitions = 1024
        c.remove = 10
        #expect(c.validationError != nil)
        c.remove = 0
        c.capacityFactor = 1
        #expect(c.validationError != nil)
    }

    @Test func waterFillLevelsTheLeastLoaded() {
        var loads = [0.0, 1.0, 3.0]
        BoundedLoadModel.waterFill(3, over: [0, 1, 2], loads: &loads)
        #expect(loads == [2, 2, 3])
        BoundedLoadModel.waterFill(3, over: [0, 2], loads: &loads)
        #expect(loads == [4, 2, 4])
    }

    static func smallLab(_ distribution: RequestDistribution = .uniform) -> [SchemeResult] {
        var c = RingLabConfig()
        c.keys = 100_000
        c.distribution = distribution
        c.measureLookups = false
        return RingLab(config: c).run()
    }

    /// The issue's figures at 100k keys (deterministic: fixed names, fixed hash).
    @Test func issueFiguresAtSmallScale() throws {
        let rows = Self.smallLab()
        func row(_ s: PartitioningScheme) throws -> SchemeResult { try #require(rows.first { $0.scheme == s }) }
        #expect(try row(.modulo).movedFraction >= 0.85)
        for s in [PartitioningScheme.vnodes, .fixed, .jump, .rendezvous, .bounded] {
            let r = try row(s)
            #expect(abs(r.movedFraction - r.idealMovedFraction) / r.idealMovedFraction <= 0.10, "\(s)")
        }
        for s in [PartitioningScheme.ring, .vnodes, .fixed, .jump, .rendezvous, .bounded] {
            #expect(try row(s).excessMovedFraction == 0, "\(s) moved keys elsewhere than the new node")
        }
        #expect(try row(.modulo).excessMovedFraction > 0.5)
        #expect(try row(.ring).keySpread.maxOverMean >= 1.5)
        #expect(try row(.vnodes).keySpread.maxOverMean <= 1.15)
        #expect(try row(.fixed).keySpread.maxOverMean <= 1.03)
        #expect(try row(.jump).keySpread.maxOverMean <= 1.03)
        #expect(try row(.rendezvous).keySpread.maxOverMean <= 1.03)
        // Moved bytes = moved keys × (key length + 100); keys here are 5..9 bytes long.
        let v = try row(.vnodes)
        let movedKeys = v.movedFraction * 100_000
        #expect(Double(v.movedBytes) >= movedKeys * 105 && Double(v.movedBytes) <= movedKeys * 109)
        #expect(v.perNode.map(\.keys).reduce(0, +) == 100_000)
        #expect(abs(v.perNode.map(\.share).reduce(0, +) - 1) < 1e-9)
    }

    @Test func boundedLoadsCapTheCelebrityNode() throws {
        let rows = Self.smallLab(.zipfian(theta: 0.99))
        let vnodes = try #require(rows.first { $0.scheme == .vnodes })
        let bounded = try #require(rows.first { $0.scheme == .bounded })
        #expect(vnodes.opsSpread.maxOverMean > 1.4)
        #expect(bounded.opsSpread.maxOverMean <= 1.25 + 1e-9)
        #expect(bounded.keySpread == vnodes.keySpread)
        #expect(vnodes.replicaOpsSpread.maxOverMean < vnodes.opsSpread.maxOverMean)
        #expect(abs(bounded.perNode.map(\.share).reduce(0, +) - 1) < 1e-9)
    }

    @Test func labIsDeterministic() {
        let a = Self.smallLab(.hotspot(hotFraction: 0.2, hotOperationFraction: 0.8)).map(\.csvRow)
        let b = Self.smallLab(.hotspot(hotFraction: 0.2, hotOperationFraction: 0.8)).map(\.csvRow)
        #expect(a == b)
    }

    @Test func csvKeepsTheIssueColumnsFirst() {
        let issue = "scheme,nodes_before,nodes_after,keys,moved_fraction,ideal_moved_fraction,moved_bytes,keys_max_mean,keys_cv,ops_max_mean,ops_cv,lookup_ns"
        #expect(SchemeResult.csvHeader.hasPrefix(issue + ","))
        var c = RingLabConfig()
        c.keys = 1000
        c.measureLookups = false
        for r in RingLab(config: c).run() {
            #expect(r.csvRow.split(separator: ",", omittingEmptySubsequences: false).count == SchemeResult.csvHeader.split(separator: ",").count)
            #expect(r.nodeRows(operations: 1000).count == 10)
        }
        #expect(fmt(0.5) == "0.500000")
        #expect(fmt(1.25, 2) == "1.25")
        #expect(fmt(3, 0) == "3")
    }

    @Test func sweepPoints() {
        #expect(SweepAxis.vnodes.points(from: 1, to: 1024, step: 1) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
        #expect(SweepAxis.nodes.points(from: 3, to: 9, step: 3) == [3, 6, 9])
        var c = RingLabConfig()
        c.keys = 2000
        c.measureLookups = false
        let rows = RingLab.sweep(.vnodes, points: [1, 4], base: c)
        #expect(rows.map(\.scheme) == [.vnodes, .bounded, .vnodes, .bounded])
        #expect(rows.map(\.vnodes) == [1, 1, 4, 4])
    }
}
