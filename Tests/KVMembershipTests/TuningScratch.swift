import KVMembership
import Testing

@Test func tuningScratch() {
    guard MembershipSimulatorTests.env("KVSWIM_TUNE") != nil else { return }
    var o = MembershipSimulationOptions()
    o.nodes = 3
    o.lossRate = 0
    o.partitions = false
    o.churn = false
    o.pauseDuration = 2_000...2_000
    o.detectionBound = 5_000
    o.config.suspicionMinTimeout = 1500
    let s = MembershipSimulator.run(seeds: 100, from: 0, options: o)
    for f in s.failures { print("seed \(f.seed): \(f.violations.first!)") }
}
