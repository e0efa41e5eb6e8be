using System.Text;

namespace Meanwhile.Http.WebSockets.Tests;

public sealed class FrameCodecTests
{
    [Fact]
    public void Masking_at_any_offset_undoes_itself_and_matches_the_byte_rule()
    {
        var data = Enumerable.Range(0, 301).Select(i => (byte)(i * 7)).ToArray();
        int key = 0x44332211; // bytes 11 22 33 44 as read little-endian from the wire
        byte[] keyBytes = [0x11, 0x22, 0x33, 0x44];
        for (int split = 0; split <= data.Length; split += 37)
        {
            var masked = (byte[])data.Clone();
            int offset = FrameMask.Apply(masked.AsSpan(0, split), key, 0);
            FrameMask.Apply(masked.AsSpan(split), key, offset);
            for (int i = 0; i < data.Length; i++) Assert.Equal((byte)(data[i] ^ keyBytes[i % 4]), masked[i]);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void A_header_written_reads_back_the_same(long length)
    {
        var buffer = new byte[FrameHeader.MaxLength];
        int written = FrameHeader.Write(buffer, Opcode.Binary, true, false, length, 0x01020304);
        Assert.Equal(written, FrameHeader.Parse(buffer.AsSpan(0, written), false, out var header, out _));
        Assert.True(header.Fin && header.Masked);
        Assert.Equal(length, header.PayloadLength);
        Assert.Equal(0x01020304, header.MaskKey);
        Assert.Equal(0, FrameHeader.Parse(buffer.AsSpan(0, written - 1), false, out _, out _));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(11)]
    [InlineData(15)]
    public void Reserved_opcodes_are_refused(int opcode)
    {
        byte[] frame = [(byte)(0x80 | opcode), 0x80, 1, 2, 3, 4];
        Assert.Equal(-1, FrameHeader.Parse(frame, false, out _, out string? error));
        Assert.Contains("reserved opcode", error);
    }

    [Fact]
    public void A_64_bit_length_with_its_top_bit_set_is_refused()
    {
        byte[] frame = [0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        Assert.Equal(-1, FrameHeader.Parse(frame, false, out _, out string? error));
        Assert.Contains("most significant bit", error);
    }

    [Fact]
    public void Utf8_split_at_every_byte_across_pieces_is_accepted()
    {
        var text = Encoding.UTF8.GetBytes("héllo wörld €uro 𝄞 clef — 日本語");
        for (int split = 0; split <= text.Length; split++)
        {
            var check = new Utf8Validation();
            Assert.True(check.Append(text.AsSpan(0, split)), $"first piece at {split}");
            Assert.True(check.Append(text.AsSpan(split)), $"second piece at {split}");
            Assert.True(check.IsComplete);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0x80 })]             // overlong
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]       // a surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { 0x80 })]                   // a lone continuation
    [InlineData(new byte[] { 0xF8, 0x88, 0x80, 0x80, 0x80 })]
    public void Invalid_utf8_is_refused_in_whatever_pieces_it_comes(byte[] bad)
    {
        var bytes = Encoding.UTF8.GetBytes("ok ").Concat(bad).ToArray();
        for (int split = 0; split <= bytes.Length; split++)
        {
            var check = new Utf8Validation();
            bool valid = check.Append(bytes.AsSpan(0, split)) && check.Append(bytes.AsSpan(split));
            Assert.False(valid, $"split at {split}");
        }
    }

    [Fact]
    public void A_sequence_cut_short_at_the_end_is_incomplete_and_fails_fast_when_it_cannot_continue()
    {
        var check = new Utf8Validation();
        Assert.True(check.Append([0xE2, 0x82]));
        Assert.False(check.IsComplete);
        Assert.False(check.Append([0x41])); // a continuation was required
        var early = new Utf8Validation();
        Assert.False(early.Append([0xF0, 0x80])); // no valid sequence starts F0 80: refused before the message ends
    }
}
