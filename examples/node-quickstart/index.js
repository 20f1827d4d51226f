// The official `twilio` Node SDK pointed at convoseal: register a public
// key, create a Service that encrypts with it, submit a transcript as an
// inline JSON document, wait for it and print the location of the encrypted
// sentences.
//
// Environment: CONVOSEAL_URL (default http://localhost:8080),
// TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and CONVOSEAL_PUBLIC_KEY (the PEM
// file of your public key, default public_key.pem).
"use strict";

const fs = require("node:fs");
const twilio = require("twilio");

// ConvosealRequestClient is the SDK's own HTTP client with one change: the
// requests it would send to intelligence.twilio.com or accounts.twilio.com
// go to convoseal instead. The SDK takes it as its `httpClient` option.
class ConvosealRequestClient extends twilio.RequestClient {
  constructor(convosealURL, opts) {
    super(opts);
    this.target = new URL(convosealURL);
  }

  request(opts) {
    const u = new URL(opts.uri);
    if (u.hostname === "intelligence.twilio.com" || u.hostname === "accounts.twilio.com") {
      u.protocol = this.target.protocol;
      u.host = this.target.host;
      u.pathname = this.target.pathname.replace(/\/$/, "") + u.pathname;
      opts = { ...opts, uri: u.toString() };
    }
    return super.request(opts);
  }
}

async function main() {
  const base = process.env.CONVOSEAL_URL || "http://localhost:8080";
  const sid = process.env.TWILIO_ACCOUNT_SID;
  const token = process.env.TWILIO_AUTH_TOKEN;
  if (!sid || !token) {
    throw new Error("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN");
  }
  const client = twilio(sid, token, { httpClient: new ConvosealRequestClient(base) });

  // 1. Register your public key.
  const pem = fs.readFileSync(process.env.CONVOSEAL_PUBLIC_KEY || "public_key.pem", "utf8");
  const key = await client.accounts.v1.credentials.publicKey.create({
    publicKey: pem,
    friendlyName: "quick start key",
  });

  // 2. Create a Service that encrypts everything with it.
  const service = await client.intelligence.v2.services.create({
    uniqueName: `node-quickstart-${Date.now()}`,
    encryptionCredentialSid: key.sid,
  });

  // 3. Submit a transcript: here an inline JSON document of sentences.
  const doc = {
    sentences: [
      { media_channel: 1, start_time: 0.0, end_time: 2.0, transcript: "Hello from the Node quick start." },
      { media_channel: 2, start_time: 2.2, end_time: 4.0, transcript: "Encrypted before it is stored." },
    ],
  };
  const mediaUrl = "data:application/json;base64," + Buffer.from(JSON.stringify(doc)).toString("base64");
  const transcript = await client.intelligence.v2.transcripts.create({
    serviceSid: service.sid,
    channel: { media_properties: { media_url: mediaUrl } },
  });

  // 4. Wait until it is completed.
  const deadline = Date.now() + 2 * 60 * 1000;
  for (;;) {
    const t = await client.intelligence.v2.transcripts(transcript.sid).fetch();
    if (t.status === "completed") break;
    if (t.status === "failed" || Date.now() > deadline) {
      throw new Error(`transcript ${transcript.sid} is ${t.status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  // 5. Fetch the encrypted sentences: a short-lived URL of the sealed artifact.
  const enc = await client.intelligence.v2.transcripts(transcript.sid).encryptedSentences().fetch();
  console.log("transcript:", transcript.sid);
  console.log(enc.location);
}

main().catch((err) => {
  console.error("node-quickstart:", err.message);
  process.exit(1);
});
