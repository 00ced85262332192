import Foundation
import Testing
@testable import KVWorkload

@Suite("Java .properties parsing, -P and -p")
struct PropertiesTests {
    @Test("separators, comments, whitespace")
    func basics() throws {
        let text = """
            # a comment
              ! another comment
            recordcount=1000
            operationcount : 2000
            readproportion 0.5
               fieldcount   =   3
            empty=
            keyonly
            spaced = value with trailing space\u{20}

            a=b=c
            """
        let parsed = try WorkloadProperties.parse(text, fileName: "w")
        let map = Dictionary(parsed.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        #expect(map["recordcount"] == "1000")
        #expect(map["operationcount"] == "2000")
        #expect(map["readproportion"] == "0.5")
        #expect(map["fieldcount"] == "3")
        #expect(map["empty"] == "")
        #expect(map["keyonly"] == "")
        #expect(map["spaced"] == "value with trailing space ")
        #expect(map["a"] == "b=c")
        #expect(parsed.first { $0.key == "fieldcount" }?.line == 6)
        #expect(parsed.count == 8)
    }

    @Test("continuation lines and escapes")
    func continuations() throws {
        let text = "phases=10s@1000,\\\n    5s@5000,\\\r\n\t10s@1000\nkey\\ with\\=odd\\:chars=x\\ty\\u0041\\\\\nlast=a\\\\\nnext=1\n# comment \\\nafter=2"
        let parsed = try WorkloadProperties.parse(text, fileName: "w")
        let map = Dictionary(parsed.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        #expect(map["phases"] == "10s@1000,5s@5000,10s@1000")
        #expect(map["key with=odd:chars"] == "x\tyA\\")
        #expect(map["last"] == "a\\")  // even backslashes: no continuation
        #expect(map["next"] == "1")
        #expect(map["after"] == "2")  // a comment line never continues
        #expect(parsed.first { $0.key == "next" }?.line == 6)
    }

    @Test("a malformed escape is reported with file and line")
    func badEscape() {
        #expect(throws: WorkloadError.syntax(file: "wl", line: 3, message: "malformed \\uXXXX escape")) {
            try WorkloadProperties.parse("a=1\n\nb=\\u12G4\n", fileName: "wl")
        }
    }

    @Test("later files win; -p wins over every file")
    func precedence() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kvw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("one").path, two = dir.appendingPathComponent("two").path
        try "recordcount=10\nfieldcount=5\ncustom.binding=yes\n".write(toFile: one, atomically: true, encoding: .utf8)
        try "recordcount=20\n".write(toFile: two, atomically: true, encoding: .utf8)
        let p = try WorkloadProperties.load(files: [one, two], overrides: ["fieldcount=7", "recordcount=30", "x=a=b"])
        #expect(p["recordcount"] == "30")
        #expect(p["fieldcount"] == "7")
        #expect(p["custom.binding"] == "yes")  // unknown keys are kept for bindings
        #expect(p["x"] == "a=b")
        #expect(p.source(of: "custom.binding") == .file(name: one, line: 3))
        let q = try WorkloadProperties.load(files: [one, two], overrides: [])
        #expect(q["recordcount"] == "20")
        #expect(q.source(of: "recordcount") == .file(name: two, line: 1))
        #expect(throws: WorkloadError.unreadable(file: dir.appendingPathComponent("missing").path)) {
            try WorkloadProperties.load(files: [dir.appendingPathComponent("missing").path], overrides: [])
        }
        #expect(throws: WorkloadError.badOverride("novalue")) { try WorkloadProperties.load(files: [], overrides: ["novalue"]) }
    }

    @Test("bad values name the file, line and key")
    func badValue() throws {
        var p = WorkloadProperties()
        try p.load(text: "recordcount=1000\n\nreadproportion=lots\n", fileName: "workloadx")
        do {
            _ = try WorkloadSpec(properties: p)
            Issue.record("expected an error")
        } catch let error as WorkloadError {
            #expect(error == .badValue(key: "readproportion", value: "lots", source: .file(name: "workloadx", line: 3), expected: "a number"))
            #expect(error.description.hasPrefix("workloadx:3: property 'readproportion' has value 'lots'"))
        }
    }

    @Test("typos of known keys get a did-you-mean warning; other unknown keys do not")
    func typos() throws {
        var p = WorkloadProperties()
        try p.load(text: "recordcont=10\nreadpropotion=0.5\nredis.host=localhost\nrequestdistrbution=zipfian\n", fileName: "f")
        let warnings = p.typoWarnings()
        #expect(warnings.count == 3)
        #expect(warnings[0] == "f:1: unknown property 'recordcont'; did you mean 'recordcount'?")
        #expect(warnings[1].contains("did you mean 'readproportion'"))
        #expect(warnings[2].contains("did you mean 'requestdistribution'"))
    }

    @Test("the bounded edit distance agrees with the full Levenshtein table up to its bound")
    func boundedEditDistance() {
        func full(_ x: [UInt8], _ y: [UInt8]) -> Int {
            var table = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
            for i in 0...x.count { table[i][0] = i }
            for j in 0...y.count { table[0][j] = j }
            for i in stride(from: 1, through: x.count, by: 1) {
                for j in stride(from: 1, through: y.count, by: 1) {
                    table[i][j] = Swift.min(table[i - 1][j] + 1, table[i][j - 1] + 1,
                                            table[i - 1][j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                }
            }
            return table[x.count][y.count]
        }
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var exceeded = 0
        for _ in 0..<3000 {
            let x = (0..<next(9)).map { _ in UInt8(97 + next(3)) }
            let y = (0..<next(9)).map { _ in UInt8(97 + next(3)) }
            let limit = next(4)
            let exact = full(x, y)
            let bounded = editDistance(x, y, atMost: limit)
            #expect(bounded == Swift.min(exact, limit + 1), "\(x) \(y) limit \(limit)")
            if exact > limit { exceeded += 1 }
        }
        #expect(exceeded > 300, "the cases must exercise the early exit")
    }
}
