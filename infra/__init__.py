"""The AWS CDK definition of the server: one construct per capability, composed by one stack."""
