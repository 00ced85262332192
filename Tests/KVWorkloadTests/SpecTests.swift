import Testing
@testable import KVWorkload

@Suite("WorkloadSpec")
struct SpecTests {
    static func spec(_ values: [String: String]) throws -> WorkloadSpec {
        try WorkloadSpec(properties: WorkloadProperties(values))
    }

    @Test("YCSB's defaults")
    func defaults() throws {
        let s = try Self.spec([:])
        #expect(s.recordCount == Int64(Int32.max))  // 0 → Integer.MAX_VALUE as CoreWorkload
        #expect(s.insertCount == s.recordCount)
        #expect(s.operationCount == 0)
        #expect(s.fieldCount == 10 && s.fieldLength == 100 && s.minFieldLength == 1)
        #expect(s.fieldLengthDistribution == .constant)
        #expect(s.readAllFields && !s.writeAllFields)
        #expect(s.proportions == [0.95, 0.05, 0, 0, 0, 0])
        #expect(s.requestDistribution == .uniform)
        #expect(s.zipfianConstant == 0.99)
        #expect(s.hotspotDataFraction == 0.2 && s.hotspotOperationFraction == 0.8)
        #expect(s.exponentialPercentile == 95 && s.exponentialFraction == 0.8571428571)
        #expect(s.insertOrder == .hashed && s.zeroPadding == 1 && s.keyPrefix == "user")
        #expect(s.minScanLength == 1 && s.maxScanLength == 1000 && s.scanLengthDistribution == .uniform)
        #expect(s.maxExecutionTime == 0 && s.threadCount == 1 && s.target == 0)
        #expect(s.table == "usertable" && s.fieldNames.first == "field0" && s.fieldNames.count == 10)
        #expect(s.warmup == .none && s.phases.isEmpty && s.seed == 0)
    }

    @Test("insertcount defaults to recordcount − insertstart")
    func insertCount() throws {
        let s = try Self.spec(["recordcount": "1000", "insertstart": "250"])
        #expect(s.insertCount == 750)
    }

    @Test("our properties: seed, warmup, phases, deletes, zipfian constant")
    func ours() throws {
        let s = try Self.spec([
            "seed": "-1", "warmup": "30s", "phases": "10s@1000, 30s@1000..20000 ,500ms@max,2m@0",
            "deleteproportion": "0.1", "zipfianconstant": "1.0", "zipfianmode": "EXACT",
        ])
        #expect(s.seed == UInt64.max)
        #expect(s.warmup == .seconds(30))
        #expect(s.phases == [Phase(duration: 10, startRate: 1000, endRate: 1000), Phase(duration: 30, startRate: 1000, endRate: 20000),
                             Phase(duration: 0.5, startRate: 0, endRate: 0), Phase(duration: 120, startRate: 0, endRate: 0)])
        #expect(s.phases[1].rate(at: 15) == 10500)
        #expect(s.deleteProportion == 0.1 && s.zipfianConstant == 1.0)
        #expect(Warmup.parse("10000") == .operations(10000))
        #expect(Warmup.parse("10000ops") == .operations(10000))
        #expect(Warmup.parse("250ms") == .seconds(0.25))
        #expect(Warmup.parse("soon") == nil)
        #expect(Phase.parseList("10s") == nil)
        #expect(Phase.parseList("10s@1..2..3") == nil)
        #expect(Phase.parseList("x@5") == nil)
    }

    @Test("invalid values and combinations give clear errors", arguments: [
        (["requestdistribution": "gaussian"], "one of uniform, zipfian, latest, hotspot, sequential, exponential"),
        (["readproportion": "0", "updateproportion": "0"], "all operation proportions are 0"),
        (["zipfianconstant": "0"], "'zipfianconstant'"),
        (["zipfianconstant": "1", "zipfianmode": "ycsb"], "θ = 1"),
        (["minscanlength": "10", "maxscanlength": "5"], "minscanlength (10) > maxscanlength (5)"),
        (["fieldlengthdistribution": "uniform", "minfieldlength": "200"], "minfieldlength (200) > fieldlength (100)"),
        (["hotspotdatafraction": "1.5"], "'hotspotdatafraction'"),
        (["phases": "10s@fast"], "DURATION@RATE"),
        (["readallfields": "yes"], "true or false"),
        (["dataintegrity": "true"], "not supported"),
        (["recordcount": "100", "insertstart": "100"], "insertstart (100) must be below recordcount (100)"),
    ])
    func invalid(values: [String: String], message: String) {
        do {
            _ = try Self.spec(values)
            Issue.record("expected an error for \(values)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
