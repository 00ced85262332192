/// Every CoreWorkload property with YCSB's defaults and meaning, plus ours (`deleteproportion`,
/// `zipfianconstant`, `zipfianmode`, `keyprefix`, `seed`, `warmup`, `phases`, `valuemode`),
/// validated. Built from `WorkloadProperties`; see `workloads/workload_template` for the list.
public struct WorkloadSpec: Sendable, Equatable {
    /// Key choice for reads, updates, scans, RMW and deletes.
    public enum RequestDistribution: String, Sendable, CaseIterable {
        case uniform, zipfian, latest, hotspot, sequential, exponential
    }

    /// How keynums become key names.
    public enum InsertOrder: String, Sendable, CaseIterable {
        case hashed, ordered
    }

    /// Scan length law.
    public enum ScanLengthDistribution: String, Sendable, CaseIterable {
        case uniform, zipfian
    }

    // Sizes and counts.
    public var recordCount: Int64 = 0
    public var operationCount: Int64 = 0
    public var insertStart: Int64 = 0
    public var insertCount: Int64 = 0
    public var table = "usertable"

    // Records.
    public var fieldCount = 10
    public var fieldNamePrefix = "field"
    public var fieldLength = 100
    public var minFieldLength = 1
    public var fieldLengthDistribution = FieldLengthGenerator.Distribution.constant
    public var readAllFields = true
    public var writeAllFields = false
    public var valueMode = ValueMode.pool

    // Mix (relative weights, normalised).
    public var readProportion = 0.95
    public var updateProportion = 0.05
    public var insertProportion = 0.0
    public var scanProportion = 0.0
    public var readModifyWriteProportion = 0.0
    public var deleteProportion = 0.0

    // Keys.
    public var requestDistribution = RequestDistribution.uniform
    public var zipfianConstant = GrayZipfianGenerator.ycsbConstant
    public var zipfianMode = ScrambledZipfianGenerator.Mode.exact
    public var hotspotDataFraction = 0.2
    public var hotspotOperationFraction = 0.8
    public var exponentialPercentile = 95.0
    public var exponentialFraction = 0.8571428571
    public var insertOrder = InsertOrder.hashed
    public var zeroPadding = 1
    public var keyPrefix = "user"
    public var minScanLength = 1
    public var maxScanLength = 1000
    public var scanLengthDistribution = ScanLengthDistribution.uniform

    // Run control.
    public var maxExecutionTime = 0.0
    public var threadCount = 1
    public var target = 0.0
    public var seed: UInt64 = 0
    public var warmup = Warmup.none
    public var phases: [Phase] = []

    /// The properties this spec came from (bindings read their own keys from here).
    public var properties = WorkloadProperties()

    /// YCSB's defaults (recordcount 0 already turned into Integer.MAX_VALUE as CoreWorkload does).
    public init() {
        recordCount = Int64(Int32.max)
        insertCount = recordCount
    }

    /// Operation weights in chooser order: read, update, insert, scan, RMW, delete.
    public var proportions: [Double] {
        [readProportion, updateProportion, insertProportion, scanProportion, readModifyWriteProportion, deleteProportion]
    }

    /// The key namer for this spec.
    public var keyNamer: KeyNamer {
        KeyNamer(prefix: keyPrefix, hashed: insertOrder == .hashed, zeroPadding: zeroPadding)
    }

    /// Field names `fieldnameprefix0…`.
    public var fieldNames: [String] { (0..<fieldCount).map { "\(fieldNamePrefix)\($0)" } }

    /// Keys this module understands (YCSB core + client keys + ours); others draw typo checks.
    public static let knownKeys: Set<String> = [
        "workload", "db", "recordcount", "operationcount", "insertstart", "insertcount", "threadcount",
        "target", "maxexecutiontime", "dotransactions", "status", "status.interval", "label", "exporter",
        "exportfile", "measurementtype", "measurement.interval", "hdrhistogram.percentiles",
        "hdrhistogram.fileoutput", "hdrhistogram.output.path", "table", "fieldcount", "fieldnameprefix",
        "fieldlength", "minfieldlength", "fieldlengthdistribution", "fieldlengthhistogram", "readallfields",
        "readallfieldsbyname", "writeallfields", "dataintegrity", "readproportion", "updateproportion",
        "insertproportion", "scanproportion", "readmodifywriteproportion", "deleteproportion",
        "requestdistribution", "hotspotdatafraction", "hotspotopnfraction", "exponential.percentile",
        "exponential.frac", "zeropadding", "insertorder", "minscanlength", "maxscanlength",
        "scanlengthdistribution", "core_workload_insertion_retry_limit",
        "core_workload_insertion_retry_interval", "zipfianconstant", "zipfianmode", "keyprefix", "seed",
        "warmup", "phases", "valuemode",
    ]

    /// Reads and validates every property; errors name the key, value and file:line.
    public init(properties: WorkloadProperties) throws {
        self.init()
        self.properties = properties
        let p = PropertyReader(properties: properties)
        let intMax = Int64(Int32.max)

        let records = try p.int("recordcount", 0, min: 0)
        recordCount = records == 0 ? intMax : records
        operationCount = try p.int("operationcount", 0, min: 0)
        insertStart = try p.int("insertstart", 0, min: 0)
        insertCount = try p.int("insertcount", recordCount - insertStart, min: 0)
        table = p.string("table", "usertable")

        fieldCount = Int(try p.int("fieldcount", 10, min: 1, max: 1 << 20))
        fieldNamePrefix = p.string("fieldnameprefix", "field")
        fieldLength = Int(try p.int("fieldlength", 100, min: 0, max: 1 << 30))
        minFieldLength = Int(try p.int("minfieldlength", 1, min: 0, max: 1 << 30))
        fieldLengthDistribution = try p.choice("fieldlengthdistribution", .constant)
        readAllFields = try p.bool("readallfields", true)
        writeAllFields = try p.bool("writeallfields", false)
        valueMode = try p.choice("valuemode", .pool)

        readProportion = try p.double("readproportion", 0.95, min: 0)
        updateProportion = try p.double("updateproportion", 0.05, min: 0)
        insertProportion = try p.double("insertproportion", 0, min: 0)
        scanProportion = try p.double("scanproportion", 0, min: 0)
        readModifyWriteProportion = try p.double("readmodifywriteproportion", 0, min: 0)
        deleteProportion = try p.double("deleteproportion", 0, min: 0)

        requestDistribution = try p.choice("requestdistribution", .uniform)
        zipfianConstant = try p.double("zipfianconstant", GrayZipfianGenerator.ycsbConstant, min: 0, max: 100, minExclusive: true)
        zipfianMode = try p.choice("zipfianmode", .exact)
        hotspotDataFraction = try p.double("hotspotdatafraction", 0.2, min: 0, max: 1)
        hotspotOperationFraction = try p.double("hotspotopnfraction", 0.8, min: 0, max: 1)
        exponentialPercentile = try p.double("exponential.percentile", 95, min: 0, max: 100, minExclusive: true)
        exponentialFraction = try p.double("exponential.frac", 0.8571428571, min: 0, minExclusive: true)
        insertOrder = try p.choice("insertorder", .hashed)
        zeroPadding = Int(try p.int("zeropadding", 1, min: 0, max: 64))
        keyPrefix = p.string("keyprefix", "user")
        minScanLength = Int(try p.int("minscanlength", 1, min: 1, max: 1 << 30))
        maxScanLength = Int(try p.int("maxscanlength", 1000, min: 1, max: 1 << 30))
        scanLengthDistribution = try p.choice("scanlengthdistribution", .uniform)

        maxExecutionTime = try p.double("maxexecutiontime", 0, min: 0)
        threadCount = Int(try p.int("threadcount", 1, min: 1, max: 1 << 16))
        target = try p.double("target", 0, min: 0)
        if let text = p.raw("seed"), !text.isEmpty {
            if let value = UInt64(text) {
                seed = value
            } else if let value = Int64(text) {
                seed = UInt64(bitPattern: value)
            } else {
                throw p.fail("seed", "an integer (64-bit)")
            }
        }
        if let text = p.raw("warmup") {
            guard let value = Warmup.parse(text) else { throw p.fail("warmup", "seconds like 30s / 500ms, or an operation count like 10000") }
            warmup = value
        }
        if let text = p.raw("phases") {
            guard let value = Phase.parseList(text) else {
                throw p.fail("phases", "comma-separated DURATION@RATE or DURATION@FROM..TO steps, e.g. 10s@1000,5s@1000..5000")
            }
            phases = value
        }
        if try p.bool("dataintegrity", false) {
            throw p.fail("dataintegrity", "false (YCSB's data-integrity mode is not supported)")
        }
        try validate(p)
    }

    private func validate(_ p: PropertyReader) throws {
        if proportions.reduce(0, +) <= 0 {
            throw WorkloadError.inconsistent("all operation proportions are 0; set at least one of readproportion, updateproportion, insertproportion, scanproportion, readmodifywriteproportion, deleteproportion")
        }
        if fieldLengthDistribution != .constant, minFieldLength > fieldLength {
            throw WorkloadError.inconsistent("minfieldlength (\(minFieldLength)) > fieldlength (\(fieldLength))")
        }
        if minScanLength > maxScanLength {
            throw WorkloadError.inconsistent("minscanlength (\(minScanLength)) > maxscanlength (\(maxScanLength))")
        }
        if zipfianMode == .ycsb, zipfianConstant == 1 {
            throw p.fail("zipfianconstant", "a value ≠ 1 with zipfianmode=ycsb (YCSB's sampler divides by 1-θ); use zipfianmode=exact for θ = 1")
        }
        if insertStart >= recordCount {
            throw WorkloadError.inconsistent("insertstart (\(insertStart)) must be below recordcount (\(recordCount))")
        }
        if insertCount == 0 {
            throw WorkloadError.inconsistent("insertcount is 0: no records to operate on")
        }
    }
}

extension WorkloadSpec {
    /// `-P` files then `-p` overrides, parsed into a spec (YCSB's command-line semantics).
    public static func load(files: [String], overrides: [String]) throws -> WorkloadSpec {
        try WorkloadSpec(properties: WorkloadProperties.load(files: files, overrides: overrides))
    }
}
