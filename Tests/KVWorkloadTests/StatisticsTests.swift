import Testing
@testable import KVWorkload

@Suite("Statistics helpers")
struct StatisticsTests {
    @Test("Wilson–Hilferty p-values match known chi-square quantiles")
    func knownQuantiles() {
        // χ²(0.999; 10) = 29.588, χ²(0.95; 10) = 18.307, χ²(0.5; 100) = 99.334
        #expect(abs(Statistics.chiSquarePValue(29.588, degreesOfFreedom: 10) - 0.001) < 0.0003)
        #expect(abs(Statistics.chiSquarePValue(18.307, degreesOfFreedom: 10) - 0.05) < 0.002)
        #expect(abs(Statistics.chiSquarePValue(99.334, degreesOfFreedom: 100) - 0.5) < 0.005)
    }

    @Test("the chi-square test rejects a wrong law")
    func rejectsWrongLaw() {
        var random = WorkloadRandom(seed: 1)
        let (counts, _) = Statistics.histogram(cells: 10, draws: 100_000) { Int64(random.next(below: 9)) }
        #expect(Statistics.pValue(observed: counts, probabilities: Statistics.uniform(10)) < 1e-9)
    }
}
