namespace Meanwhile.Http;

/// <summary>Finds the CRLF that ends a line, strictly: a CR not followed by LF, or an LF without CR, is an error.</summary>
/// <remarks>
/// One vectorized IndexOfAny finds both CR and LF, so a bare CR is caught as soon as the byte after it arrives
/// rather than when some later LF shows up (that is what lets smuggled bytes after a bare CR never be parsed).
/// </remarks>
internal static class LineScanner
{
    internal enum Outcome : byte
    {
        /// <summary>Every scanned byte belongs to the unfinished line; a trailing CR is remembered.</summary>
        Partial,

        /// <summary>The line ends; the count includes the terminating LF.</summary>
        LineEnd,

        /// <summary>A CR followed by something other than LF.</summary>
        BareCR,

        /// <summary>An LF not preceded by CR.</summary>
        BareLF,
    }

    /// <summary>Scans <paramref name="input"/> for the end of the current line.</summary>
    /// <param name="input">Bytes that continue the current line.</param>
    /// <param name="crPending">In: the line so far ends with CR. Out: the same after this input.</param>
    /// <param name="count">Bytes of <paramref name="input"/> that belong to the line (all of them when partial, through the LF at a line end).</param>
    internal static Outcome Scan(ReadOnlySpan<byte> input, ref bool crPending, out int count)
    {
        if (crPending)
        {
            count = 0;
            if (input.IsEmpty)
            {
                return Outcome.Partial;
            }

            if (input[0] != HttpChars.LF)
            {
                return Outcome.BareCR;
            }

            crPending = false;
            count = 1;
            return Outcome.LineEnd;
        }

        int i = input.IndexOfAny(HttpChars.CR, HttpChars.LF);
        if (i < 0)
        {
            count = input.Length;
            return Outcome.Partial;
        }

        count = i;
        if (input[i] == HttpChars.LF)
        {
            return Outcome.BareLF;
        }

        if (i + 1 == input.Length)
        {
            crPending = true;
            count = input.Length;
            return Outcome.Partial;
        }

        if (input[i + 1] != HttpChars.LF)
        {
            return Outcome.BareCR;
        }

        count = i + 2;
        return Outcome.LineEnd;
    }
}
