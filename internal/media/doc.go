// Package media turns the media_url of a transcript channel
// (Channel.media_properties.media_url) into sentences.
//
// It has two halves:
//
//   - [Fetcher] retrieves the bytes behind a URL: data: URLs are decoded in
//     memory, http: and https: URLs are fetched with SSRF protection (the
//     address actually dialed must be a public unicast address unless
//     [Fetcher.AllowPrivate] is set), a size cap, timeouts and a redirect limit.
//   - [Parse] turns fetched [Media] into a validated [Document]: either the JSON
//     transcript format or WebVTT. Audio is recognised but refused with
//     [ErrUnsupportedMedia] until a recognizer is plugged in.
//
// Errors never contain a URL's userinfo or query string (only
// scheme://host/path), never fetched content and never transcript text, so
// they can be shown to users and logged. Use [errors.Is] with the Err*
// sentinels, or [errors.As] with [*FetchError] or [*HTTPStatusError], to find
// the reason.
package media
