
namespace Meanwhile.Http.Tests;

/// <summary>
/// The echo-mode conformance corpus, checked at the parser level: each case's bytes go through a request
/// parser and the origin-server policy the way the server will run them, message after message, whole and
/// split at every byte offset, and the outcome is judged by the case's expectation.
/// </summary>
public sealed class ConformanceCorpusTests
{
    private static readonly HashSet<int> DefaultRejectStatuses = [.. Enumerable.Range(400, 100), 501, 505];

    public static TheoryData<string> CaseIds()
    {
        var ids = new TheoryData<string>();
        foreach (CorpusCase corpusCase in Corpus.Cases.Values.Where(c => !c.Skip))
        {
            ids.Add(corpusCase.Id);
        }

        return ids;
    }

    [Fact]
    public void Corpus_has_the_documented_cases()
    {
        Assert.Equal(120, Corpus.Cases.Values.Count(c => !c.Skip));
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Case_is_handled_as_expected(string id)
    {
        CorpusCase corpusCase = Corpus.Cases[id];
        Transcript transcript = Splits.Same(corpusCase.Raw, pieces => ConnectionDriver.Requests(pieces, policy: HttpRequestPolicy.OriginServer));
        string? failure = Judge(corpusCase, transcript);
        Assert.True(failure is null, $"{id}: {failure}\n{transcript}");

        if (corpusCase.Await100At is int at && transcript.Messages.Count > 0)
        {
            Assert.True(transcript.Messages[0].ExpectsContinue, $"{id}: the request waiting at byte {at} must ask for 100-continue");
        }
    }

    private static string? Judge(CorpusCase c, Transcript t) => c.Expect switch
    {
        "accept" => JudgeAccept(c, t),
        "reject" => JudgeReject(c, t, c.Requests.Count),
        "incomplete" => JudgeIncomplete(c, t),
        "either" => JudgeAccept(c, t) is null ? null : JudgeReject(c, t, c.RejectAfter ?? Math.Max(0, c.Requests.Count - 1)),
        _ => $"unknown expectation {c.Expect}",
    };

    private static string? JudgeAccept(CorpusCase c, Transcript t)
    {
        if (t.Ending == Ending.Error)
        {
            return $"refused with {t.Error} after {t.Messages.Count} requests";
        }

        string? mismatch = CompareRequests(c.Requests, t.Messages, c.Requests.Count);
        if (mismatch is not null)
        {
            return mismatch;
        }

        if (c.Close != (t.Ending == Ending.Closed))
        {
            return c.Close ? "the connection should close after the last request" : "the connection should stay open";
        }

        return null;
    }

    private static string? JudgeReject(CorpusCase c, Transcript t, int echoes)
    {
        string? mismatch = CompareRequests(c.Requests, t.Messages, echoes);
        if (mismatch is not null)
        {
            return mismatch;
        }

        if (t.Ending == Ending.Error)
        {
            IReadOnlyCollection<int> allowed = c.Status ?? (IReadOnlyCollection<int>)DefaultRejectStatuses;
            return allowed.Contains(t.Error.StatusCode) ? null : $"refused with {t.Error}, want a status in [{string.Join(", ", allowed)}]";
        }

        // The offending message never finished its head: closing without an answer at end of input is allowed.
        if (c.SilentCloseOk && t.Ending == Ending.NeedMoreData && t.MidMessage)
        {
            return null;
        }

        return $"not refused: ended with {t.Ending}";
    }

    private static string? JudgeIncomplete(CorpusCase c, Transcript t)
    {
        if (t.Ending != Ending.NeedMoreData)
        {
            return $"a valid prefix must wait for more data, ended with {t.Ending} {t.Error}";
        }

        return CompareRequests(c.Requests, t.Messages, c.Requests.Count) ?? (t.MidMessage ? null : "the input should stop inside a message");
    }

    private static string? CompareRequests(IReadOnlyList<ExpectedRequest> expected, IReadOnlyList<ParsedMessage> actual, int count)
    {
        if (actual.Count != count)
        {
            return $"want {count} requests, got {actual.Count}";
        }

        for (int i = 0; i < count; i++)
        {
            ExpectedRequest want = expected[i];
            ParsedMessage got = actual[i];
            if (want.Method != got.Method || want.Target != got.Target || want.Version != got.Version)
            {
                return $"request {i + 1}: want {want.Method} {want.Target} {want.Version}, got {got.Method} {got.Target} {got.Version}";
            }

            bool sameHeaders = want.Headers.Count == got.Headers.Count
                && want.Headers.Zip(got.Headers).All(p => string.Equals(p.First.Name, p.Second.Name, StringComparison.OrdinalIgnoreCase) && p.First.Value == p.Second.Value);
            if (!sameHeaders)
            {
                return $"request {i + 1}: headers differ: want {string.Join(", ", want.Headers)}, got {string.Join(", ", got.Headers)}";
            }

            if (!want.Body.AsSpan().SequenceEqual(got.Body))
            {
                return $"request {i + 1}: body differs: want {Convert.ToBase64String(want.Body)}, got {Convert.ToBase64String(got.Body)}";
            }
        }

        return null;
    }
}
