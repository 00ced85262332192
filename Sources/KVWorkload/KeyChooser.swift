/// The request distribution of a run, as YCSB's CoreWorkload sets it up (`getKeyChooser`) and
/// draws from it (`nextKeynum`): redraw while above the last acknowledged insert; exponential
/// and latest count back from it. Values are view indices (see `OperationStream`).
struct KeyChooser: Sendable {
    let distribution: WorkloadSpec.RequestDistribution
    var uniform: UniformGenerator
    var zipfian: ScrambledZipfianGenerator
    var latest: SkewedLatestGenerator
    var hotspot: HotspotGenerator
    var sequential: SequentialGenerator
    var exponential: ExponentialGenerator

    init(spec: WorkloadSpec, random: WorkloadRandom) {
        distribution = spec.requestDistribution
        let lower = spec.insertStart
        let upper = spec.insertStart + spec.insertCount - 1
        let isZipf = distribution == .zipfian
        uniform = UniformGenerator(lower: lower, upper: upper, random: random)
        // YCSB sizes the scrambled zipfian for the inserts it expects: 2 × opcount × insertproportion.
        let expectedNewKeys = Int64(Double(spec.operationCount) * spec.insertProportion * 2.0)
        zipfian = ScrambledZipfianGenerator(min: lower, max: isZipf ? upper + 1 + expectedNewKeys : lower,
                                            theta: spec.zipfianConstant, mode: isZipf ? spec.zipfianMode : .exact, random: random)
        latest = SkewedLatestGenerator(initialLatest: distribution == .latest ? spec.recordCount - 1 : 0,
                                       theta: spec.zipfianConstant, mode: spec.zipfianMode, random: random)
        hotspot = HotspotGenerator(lower: lower, upper: upper, dataFraction: spec.hotspotDataFraction,
                                   operationFraction: spec.hotspotOperationFraction, random: random)
        sequential = SequentialGenerator(lower: lower, upper: upper)
        exponential = ExponentialGenerator(percentile: spec.exponentialPercentile,
                                           range: Double(spec.recordCount) * spec.exponentialFraction, random: random)
    }

    @inline(__always)
    mutating func next(lastAcknowledged last: Int64) -> Int64 {
        var k: Int64
        switch distribution {
        case .exponential:
            repeat { k = last - exponential.next() } while k < 0
        case .latest:
            k = latest.next(latest: last)
        case .uniform:
            repeat { k = uniform.next() } while k > last
        case .zipfian:
            repeat { k = zipfian.next() } while k > last
        case .hotspot:
            repeat { k = hotspot.next() } while k > last
        case .sequential:
            repeat { k = sequential.next() } while k > last
        }
        return k
    }
}
