"""The Keystone v3 / Huawei Cloud IAM subset that clients use to get and check tokens."""
