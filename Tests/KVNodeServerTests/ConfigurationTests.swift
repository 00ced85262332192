import Testing
@testable import KVNodeServer

@Suite struct DefaultThreadsTests {
    /// Three quarters of the cores, never zero: a 1- or 2-core machine keeps one loop, so the log writer and
    /// a co-located client are not starved.
    @Test func threeQuartersOfTheCoresAtLeastOne() {
        let expected: [(cores: Int, threads: Int)] = [(0, 1), (1, 1), (2, 1), (3, 2), (4, 3), (8, 6), (16, 12), (64, 48)]
        for (cores, threads) in expected {
            #expect(NodeConfiguration.defaultThreads(cores: cores) == threads, "\(cores) cores")
        }
        #expect(NodeConfiguration().threads >= 1)
    }
}
