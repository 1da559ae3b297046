import { S3Client } from "@aws-sdk/client-s3";

/** The SDK's S3 client against a test server's edge, path style, as its own account. */
export function edgeS3(srv: {
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): S3Client {
  return new S3Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
}
